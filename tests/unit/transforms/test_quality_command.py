"""`cdn-offload validate`: exit codes, stored results and a summary that survives odd strings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cdn_offload.cli import main
from tests.fixtures.quality.builder import valid_rows, with_values, write_partition

pytestmark = pytest.mark.unit

# A recent hour, so that no row counts as in the future against the real clock.
HOUR = datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)


def stored(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "quality").glob("validation-*.json"))


def test_clean_data_exits_0_and_stores_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_partition(tmp_path, valid_rows(50, HOUR), HOUR)
    assert main(["validate", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "All 36 checks passed." in out
    assert "origin_request_matches_cache_status" in out
    [result_file] = stored(tmp_path)
    assert str(result_file) in out.replace("\n", "")
    document = json.loads(result_file.read_text())
    assert document == json.loads((tmp_path / "quality" / "latest.json").read_text())
    assert document["success"] is True
    assert document["rows"] == 50
    assert result_file.name == f"validation-{document['run_id']}.json"


def test_failed_check_exits_1_and_json_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = with_values(valid_rows(50, HOUR), 2, status=1000)
    write_partition(tmp_path, rows, HOUR)
    assert main(["validate", "--data", str(tmp_path), "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["failed_checks"] == ["status_is_http_code"]
    assert Path(document["stored"]).exists()
    [entry] = [c for c in document["checks"] if c["name"] == "status_is_http_code"]
    assert entry["sample_unexpected"] == [{"value": 1000, "count": 1}]


def test_window_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_partition(tmp_path, valid_rows(50, HOUR), HOUR)
    later = HOUR + timedelta(hours=1)
    write_partition(tmp_path, with_values(valid_rows(50, later), 0, bytes_sent=-5), later)
    argv = [
        "validate",
        "--data",
        str(tmp_path),
        "--json",
        "--from",
        HOUR.isoformat(),
        "--to",
        f"{later:%Y-%m-%dT%H:%M}",
    ]
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["partitions"] == 1
    assert document["window"]["end"] == f"{later:%Y-%m-%dT%H:%M:%S}Z"


def test_odd_strings_do_not_break_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = "[/bold][link=x]\x1b[2J\u202e\ud7ff" + "ü" * 100
    write_partition(tmp_path, with_values(valid_rows(50, HOUR), 1, cache_status=odd), HOUR)
    assert main(["validate", "--data", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out  # control characters are shown escaped
    assert "[/bold][link=x]\\x1b[2J" in out
    assert "1 of 36 checks failed." in out


def test_max_unknown_share_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = valid_rows(200, HOUR)
    for index in range(0, 200, 4):
        rows = with_values(
            rows,
            index,
            cache_status="UNKNOWN",
            served_from_cache="unknown",
            origin_request="unknown",
            cache_tier="unknown",
        )
    write_partition(tmp_path, rows, HOUR)
    assert main(["validate", "--data", str(tmp_path), "--json", "--max-unknown-share", "0.1"]) == 1
    assert json.loads(capsys.readouterr().out)["failed_checks"] == ["unknown_cache_status_share"]
    assert main(["validate", "--data", str(tmp_path), "--json", "--max-unknown-share", "0.3"]) == 0


def test_no_data_exits_1_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--data", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err
    assert "No data to validate" in err
    assert "cdn-offload ingest files" in err
    assert not (tmp_path / "empty" / "quality").exists()
    assert main(["validate", "--data", str(tmp_path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "no_data"


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(["--from", "yesterday"], id="bad_iso"),
        pytest.param(["--from", "2025-03-02", "--to", "2025-03-01"], id="from_after_to"),
        pytest.param(["--max-unknown-share", "1.5"], id="share_above_1"),
        pytest.param(["--max-unknown-share", "lots"], id="share_not_a_number"),
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, extra: list[str]) -> None:
    write_partition(tmp_path, valid_rows(10, HOUR), HOUR)
    code: int | str | None
    try:
        code = main(["validate", "--data", str(tmp_path), *extra])
    except SystemExit as exc:  # argparse rejects the value itself
        code = exc.code
    assert code == 2
    assert stored(tmp_path) == []


def test_unsupported_uri_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--data", "gs://bucket/data"]) == 2
    assert "unsupported storage URI" in capsys.readouterr().err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--help"])
    assert exc.value.code == 0
    assert "--max-unknown-share" in capsys.readouterr().out
