"""`cdn-offload generate` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdn_offload.cli import main

pytestmark = pytest.mark.unit


def test_generate_writes_files_and_prints_a_json_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "generate",
            "--out",
            str(tmp_path),
            "--rows",
            "3000",
            "--seed",
            "9",
            "--cdns",
            "cloudfront,akamai",
            "--duration-min",
            "45",
            "--start",
            "2025-04-01T14:00:00Z",
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 3000
    assert set(report["by_cdn"]) == {"cloudfront", "akamai"}
    assert sum(c["rows"] for c in report["by_cdn"].values()) == 3000
    doc = json.loads((tmp_path / "match.json").read_text())
    assert doc["match"]["start"] == "2025-04-01T14:00:00.000Z"
    assert doc["parameters"]["duration_min"] == 45
    assert sorted(p.name for p in tmp_path.iterdir()) == ["akamai", "cloudfront", "match.json"]


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--cdns", "cloudfront,limelight"], id="unknown-cdn"),
        pytest.param(["--start", "not-a-date"], id="bad-start"),
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, argv: list[str]) -> None:
    assert main(["generate", "--out", str(tmp_path), "--rows", "10", *argv]) == 2


def test_refuses_to_mix_with_an_earlier_match(tmp_path: Path) -> None:
    args = ["generate", "--out", str(tmp_path), "--rows", "200", "--duration-min", "30", "--json"]
    assert main(args) == 0
    assert main(args) == 2
    assert main([*args, "--force"]) == 0
