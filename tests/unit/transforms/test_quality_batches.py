"""Reading partitions for validation: window, batches, lineage, schema drift, no data."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.schema import CANONICAL_SCHEMA
from tests.fixtures.quality.builder import valid_rows, with_value, with_values, write_partition
from tests.unit.transforms.test_quality_suite import HOUR, ROWS, check, run
from transforms.errors import NoDataError
from transforms.quality import QualitySettings

pytestmark = pytest.mark.unit


def test_window_keeps_misplaced_rows_and_skips_rows_outside(tmp_path: Path) -> None:
    before, after = HOUR - timedelta(hours=1), HOUR + timedelta(hours=1)
    write_partition(tmp_path, valid_rows(ROWS, before), before)
    write_partition(tmp_path, valid_rows(ROWS, after), after)
    rows = with_value(valid_rows(ROWS, HOUR), "event_time", 0, HOUR - timedelta(days=2))
    write_partition(tmp_path, rows, HOUR)
    result = run(tmp_path, start=HOUR + timedelta(minutes=30), end=after)
    assert result["partitions"] == 1
    assert result["window"] == {"start": "2025-03-01T14:30:00Z", "end": "2025-03-01T15:00:00Z"}
    # Rows 100..199 lie in the window; row 0 is outside it but misplaced, so it is kept.
    assert result["rows"] == ROWS // 2 + 1
    assert result["failed_checks"] == ["event_time_in_partition"]


def test_batches_add_up(tmp_path: Path) -> None:
    first = with_value(valid_rows(ROWS, HOUR, source_file="a.log"), "bytes_sent", 5, -1)
    second = with_value(valid_rows(ROWS, HOUR, source_file="b.log"), "bytes_sent", 150, -1)
    write_partition(tmp_path, first, HOUR, name="a")
    write_partition(tmp_path, second, HOUR, name="b")
    small = run(tmp_path, settings=QualitySettings(batch_rows=70))
    whole = run(tmp_path)
    for result in (small, whole):
        assert result["rows"] == 2 * ROWS
        failed = check(result, "bytes_sent_non_negative")
        assert failed["unexpected_count"] == 2
        assert failed["element_count"] == 2 * ROWS
        assert sorted(r["lineage"] for r in failed["sample_rows"]) == ["a.log:6", "b.log:151"]


def test_kafka_lineage_in_sample_rows(tmp_path: Path) -> None:
    rows = valid_rows(ROWS, HOUR)
    kafka = {
        "_source_file": None,
        "_source_line": None,
        "_source_topic": "edge-logs",
        "_source_partition": 3,
        "_source_offset": 1234,
    }
    write_partition(tmp_path, with_values(rows, 7, path=None, **kafka), HOUR)
    assert check(run(tmp_path), "path_not_null")["sample_rows"] == [
        {"lineage": "edge-logs/3/1234", "value": None}
    ]


def test_schema_drift_and_unreadable_files_fail_the_schema_check(tmp_path: Path) -> None:
    write_partition(tmp_path, valid_rows(ROWS, HOUR), HOUR, name="good")
    old = valid_rows(10, HOUR, source_file="old.log").drop_columns(["ttfb_ms"])
    write_partition(tmp_path, old, HOUR, name="old")
    folder = tmp_path / "raw" / "dt=2025-03-01" / "hour=14"
    broken = (
        valid_rows(3, HOUR)
        .drop_columns(["status"])
        .append_column("status", pa.array(["x", "y", "z"]))
    )
    pq.write_table(broken, folder / "broken.parquet")
    result = run(tmp_path)
    assert result["failed_checks"] == ["parquet_schema_matches_canonical"]
    assert result["rows"] == ROWS + 10  # the drifted file is read, the broken one skipped
    schema = check(result, "parquet_schema_matches_canonical")
    assert (schema["element_count"], schema["unexpected_count"]) == (3, 2)
    problems = {Path(r["file"]).name: r["problem"] for r in schema["sample_rows"]}
    assert problems["old.parquet"] == "missing ttfb_ms"
    assert problems["broken.parquet"].startswith("unreadable:")


def test_temporary_and_hidden_files_are_ignored(tmp_path: Path) -> None:
    path = write_partition(tmp_path, valid_rows(ROWS, HOUR), HOUR)
    junk = pa.table({"x": [1]})
    pq.write_table(junk, path.parent / ".part.parquet.123.tmp.parquet")
    pq.write_table(junk, path.parent / "_SUCCESS.parquet")
    assert run(tmp_path)["success"] is True


def test_no_data_raises(tmp_path: Path) -> None:
    with pytest.raises(NoDataError):
        run(tmp_path)
    write_partition(tmp_path, valid_rows(ROWS, HOUR), HOUR)
    with pytest.raises(NoDataError):
        run(tmp_path, start=HOUR + timedelta(days=1))


def test_importing_quality_does_not_import_great_expectations() -> None:
    code = "import sys, transforms.quality, cdn_offload.commands.validate; print('great_expectations' in sys.modules)"
    repo = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(repo), "PATH": ""},
    )
    assert out.stdout.strip() == "False"


def test_canonical_schema_has_the_columns_the_suite_reads() -> None:
    from transforms.quality_suite import SUITE_COLUMNS

    assert set(SUITE_COLUMNS) <= set(CANONICAL_SCHEMA.names)
