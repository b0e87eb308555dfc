"""`cdn-offload dashboard`: settings reach Streamlit through the environment; bad ones stop it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import pytest

from cdn_offload.cli import build_parser, main
from cdn_offload.commands import dashboard

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[3]


class FakePopen:
    """Records the command instead of starting Streamlit."""

    calls: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        FakePopen.calls.append({"cmd": cmd, "env": env})

    def wait(self, timeout: float | None = None) -> int:
        return 0


@pytest.fixture
def popen(monkeypatch: pytest.MonkeyPatch) -> type[FakePopen]:
    FakePopen.calls = []
    monkeypatch.setattr(dashboard.subprocess, "Popen", FakePopen)
    return FakePopen


def test_starts_streamlit_headless_with_the_settings(popen, tmp_path, capsys):
    code = main(
        [
            "dashboard",
            "--data",
            str(tmp_path),
            "--port",
            "9123",
            "--refresh-s",
            "5",
            "--live-window-min",
            "30",
            "--source",
            "rollups",
        ]
    )

    assert code == 0
    [call] = popen.calls
    cmd, env = call["cmd"], call["env"]
    assert cmd[1:4] == ["-m", "streamlit", "run"]
    assert cmd[4] == str(REPO / "dashboards" / "streamlit_app.py")
    assert cmd[cmd.index("--server.port") + 1] == "9123"
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert env["CDN_OFFLOAD_DASHBOARD_DATA"] == str(tmp_path)
    assert env["CDN_OFFLOAD_DASHBOARD_REFRESH_S"] == "5.0"
    assert env["CDN_OFFLOAD_DASHBOARD_LIVE_WINDOW_MIN"] == "30"
    assert env["CDN_OFFLOAD_DASHBOARD_SOURCE"] == "rollups"
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(REPO)
    assert "at http://127.0.0.1:9123/" in capsys.readouterr().out


def test_a_missing_data_dir_is_a_warning_not_an_error(popen, tmp_path, capsys):
    code = main(["dashboard", "--data", str(tmp_path / "later")])

    assert code == 0 and popen.calls
    assert "does not exist yet" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "setting"),
    [
        (["--refresh-s", "0"], "refresh_s"),
        (["--live-window-min", "0"], "live_window_min"),
    ],
    ids=["refresh", "window"],
)
def test_invalid_settings_stop_before_streamlit(popen, tmp_path, capsys, args, setting):
    code = main(["dashboard", "--data", str(tmp_path), *args])

    assert code == 2 and not popen.calls
    assert setting in capsys.readouterr().err


def test_an_invalid_transforms_config_stops_before_streamlit(popen, tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("[transforms]\nthreshold = 7\n")
    code = main(["dashboard", "--data", str(tmp_path), "--config", str(config)])

    assert code == 2 and not popen.calls
    assert "threshold" in capsys.readouterr().err


def test_is_listed_in_the_help():
    assert "dashboard" in build_parser().format_help()
