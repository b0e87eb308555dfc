"""`cdn-offload alerts eval|watch` end to end on hand-made rollups."""

from __future__ import annotations

import json

import pytest

from cdn_offload.cli import main
from tests.unit.transforms.alert_builders import series, steady, write_rollups

pytestmark = pytest.mark.unit
V = "/live/{event}/{rendition}/index.m3u8"


@pytest.fixture
def data_dir(tmp_path):
    cloudflare = [*steady(95, 5, 10), *steady(30, 70, 10), *steady(95, 5, 20)]
    rows = [*series(V, "cloudfront", steady(95, 5, 40)), *series(V, "cloudflare", cloudflare)]
    return write_rollups(tmp_path / "data", rows)


def _args(data_dir, *extra: str) -> list[str]:
    return [*extra, "--data", str(data_dir), "--min-requests", "100", "--no-update-rollups"]


def test_eval_prints_the_timeline_as_json(data_dir, capsys) -> None:
    code = main(
        ["alerts", *_args(data_dir, "eval"), "--format", "json", "--to", "2025-03-09T10:30Z"]
    )

    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(n["at"], n["status"], len(n["alerts"])) for n in result["notifications"]] == [
        ("2025-03-09T10:13:00Z", "firing", 2),
        ("2025-03-09T10:27:00Z", "resolved", 2),
    ]
    assert result["firing_at_end"] == []


def test_eval_prints_a_table(data_dir, capsys) -> None:
    code = main(["alerts", *_args(data_dir, "eval"), "--dashboard-url", "http://dash:8501"])

    out = capsys.readouterr().out
    assert code == 0
    assert "Alert timeline 2025-03-09T10:00:00Z .. 2025-03-09T10:40:00Z" in out
    assert out.count("firing") == 2 and out.count("resolved") == 2
    assert "Firing at the end: 0" in out


def test_eval_sends_to_sinks_only_when_asked(data_dir, tmp_path, capsys) -> None:
    path = tmp_path / "out.jsonl"
    main(["alerts", *_args(data_dir, "eval"), "--jsonl", str(path), "--format", "json"])
    assert not path.exists()

    main(["alerts", *_args(data_dir, "eval"), "--jsonl", str(path), "--notify", "--format", "json"])
    assert len(path.read_text().splitlines()) == 2


def test_watch_once_notifies_and_keeps_state(data_dir, tmp_path, capsys) -> None:
    path = tmp_path / "alerts.jsonl"
    watch = ["alerts", *_args(data_dir, "watch"), "--once", "--no-console", "--jsonl", str(path)]

    assert main(watch) == 0
    first = path.read_text().splitlines()
    assert main(watch) == 0

    assert [json.loads(line)["status"] for line in first] == ["firing", "resolved"]
    assert path.read_text().splitlines() == first  # nothing new: no duplicate after a restart
    assert (data_dir / "alerts" / "state.json").is_file()


def test_watch_prints_to_the_console_by_default(data_dir, capsys) -> None:
    assert main(["alerts", *_args(data_dir, "watch"), "--once"]) == 0

    out = capsys.readouterr().out
    assert "[2025-03-09T10:13:00Z] CDN offload alerts: 2 firing, 0 resolved" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(["--window-minutes", "0"], "alerts.window_minutes", id="bad-setting"),
        pytest.param(["--webhook", "not-a-url"], "alerts.webhooks", id="bad-webhook"),
    ],
)
def test_bad_settings_exit_2_naming_them(data_dir, capsys, extra, message) -> None:
    assert main(["alerts", *_args(data_dir, "eval"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_eval_without_rollups_says_what_to_do(tmp_path, capsys) -> None:
    assert main(["alerts", *_args(tmp_path, "eval")]) == 2
    assert "no data under" in capsys.readouterr().err
