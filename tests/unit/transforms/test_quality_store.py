"""Readers for the dashboard and the report: partitions, stored results, quarantine, lag."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingest.storage import resolve
from tests.fixtures.quality.builder import quarantine_rows, valid_rows, write_partition
from transforms.quality import (
    ingest_lag,
    jsonable,
    latest_validation,
    quarantine_summary,
    store_validation,
)
from transforms.quality_store import raw_partitions

pytestmark = pytest.mark.unit

HOUR = datetime(2025, 3, 1, 14, tzinfo=UTC)


def test_raw_partitions_overlap_the_window_and_ignore_other_files(tmp_path: Path) -> None:
    for offset in range(3):
        start = HOUR + timedelta(hours=offset)
        write_partition(tmp_path, valid_rows(2, start), start)
    (tmp_path / "raw" / "dt=2025-03-01" / "hour=99").mkdir()
    pq.write_table(
        valid_rows(1, HOUR), tmp_path / "raw" / "dt=2025-03-01" / "hour=99" / "x.parquet"
    )
    pq.write_table(valid_rows(1, HOUR), tmp_path / "raw" / "stray.parquet")
    data = resolve(str(tmp_path))
    assert [p.key for p in raw_partitions(data)] == [
        "dt=2025-03-01/hour=14",
        "dt=2025-03-01/hour=15",
        "dt=2025-03-01/hour=16",
    ]
    window = raw_partitions(
        data, HOUR + timedelta(minutes=59), HOUR + timedelta(hours=1, minutes=1)
    )
    assert [p.key for p in window] == ["dt=2025-03-01/hour=14", "dt=2025-03-01/hour=15"]
    assert raw_partitions(data, end=HOUR) == []


def test_latest_validation(tmp_path: Path) -> None:
    assert latest_validation(str(tmp_path)) is None
    first = store_validation(str(tmp_path), {"run_id": "20250301T140000000Z", "success": True})
    store_validation(str(tmp_path), {"run_id": "20250301T150000000Z", "success": False})
    assert Path(first).name == "validation-20250301T140000000Z.json"
    assert latest_validation(str(tmp_path)) == {"run_id": "20250301T150000000Z", "success": False}
    assert [p.name for p in (tmp_path / "quality").iterdir() if p.name.startswith(".")] == []
    (tmp_path / "quality" / "latest.json").write_text("{not json")
    assert latest_validation(str(tmp_path)) is None


def _quarantine(tmp_path: Path) -> None:
    t0 = HOUR
    file_rows = [
        {
            "_source_file": "cf.log.gz",
            "_source_line": n,
            "vendor": "cloudfront",
            "source_format": "cloudfront_standard",
            "stage": "parsing",
            "reason_code": "bad_field_count",
            "ingested_at": t0 + timedelta(minutes=n),
        }
        for n in range(1, 4)
    ]
    file_rows.append(
        {
            "_source_file": "cf.log.gz",
            "_source_line": 9,
            "vendor": "cloudfront",
            "source_format": "cloudfront_standard",
            "stage": "parsing",
            "reason_code": "bad_timestamp",
            "ingested_at": t0,
        }
    )
    file_rows.append(
        {
            "_source_file": "junk.bin",
            "_source_line": 1,
            "vendor": None,
            "source_format": None,
            "stage": "framing",
            "reason_code": "binary_garbage",
            "ingested_at": t0,
        }
    )
    kafka_rows = [
        {
            "_source_topic": "edge-logs",
            "_source_partition": 0,
            "_source_offset": n,
            "vendor": "fastly",
            "source_format": "fastly",
            "stage": "parsing",
            "reason_code": "bad_json",
            "ingested_at": t0 + timedelta(hours=2),
        }
        for n in range(2)
    ]
    for kind, rows in (("file", file_rows), ("kafka", kafka_rows)):
        folder = tmp_path / "quarantine" / kind
        folder.mkdir(parents=True)
        pq.write_table(quarantine_rows(rows), folder / "chunk-00001.parquet")


def test_quarantine_summary_counts_per_source_and_reason(tmp_path: Path) -> None:
    _quarantine(tmp_path)
    summary = quarantine_summary(str(tmp_path)).to_pylist()
    assert [
        (r["source"], r["vendor"], r["stage"], r["reason_code"], r["records"]) for r in summary
    ] == [
        ("cf.log.gz", "cloudfront", "parsing", "bad_field_count", 3),
        ("edge-logs", "fastly", "parsing", "bad_json", 2),
        ("cf.log.gz", "cloudfront", "parsing", "bad_timestamp", 1),
        ("junk.bin", None, "framing", "binary_garbage", 1),
    ]
    assert summary[0]["first_ingested_at"] == HOUR + timedelta(minutes=1)
    assert summary[0]["last_ingested_at"] == HOUR + timedelta(minutes=3)
    assert summary[0]["source_format"] == "cloudfront_standard"


def test_quarantine_summary_window_and_empty(tmp_path: Path) -> None:
    assert quarantine_summary(str(tmp_path)).num_rows == 0
    _quarantine(tmp_path)
    later = quarantine_summary(str(tmp_path), start=HOUR + timedelta(hours=1))
    assert later.column("records").to_pylist() == [2]
    early = quarantine_summary(
        str(tmp_path), start=HOUR + timedelta(minutes=2), end=HOUR + timedelta(hours=1)
    )
    assert early.column("records").to_pylist() == [2]


def test_ingest_lag_per_cdn(tmp_path: Path) -> None:
    assert ingest_lag(str(tmp_path)).num_rows == 0
    write_partition(tmp_path, valid_rows(60, HOUR, cdn="cloudfront"), HOUR, name="cf")
    later = HOUR + timedelta(hours=1)
    write_partition(
        tmp_path, valid_rows(60, later, cdn="fastly", source_format="fastly"), later, name="fastly"
    )
    future = HOUR + timedelta(days=30)
    write_partition(
        tmp_path, valid_rows(5, future, cdn="nginx", source_format="nginx"), future, name="nginx"
    )
    now = HOUR + timedelta(hours=2)
    lag = ingest_lag(str(tmp_path), now=now).to_pylist()
    assert lag == [
        {"cdn": "cloudfront", "newest_event_time": HOUR + timedelta(minutes=59), "lag_s": 3660.0},
        {"cdn": "fastly", "newest_event_time": later + timedelta(minutes=59), "lag_s": 60.0},
    ]
    assert [r["cdn"] for r in ingest_lag(str(tmp_path), now=now, lookback_hours=1).to_pylist()] == [
        "fastly"
    ]


def test_jsonable_handles_what_gx_returns() -> None:
    import numpy as np
    import pandas as pd

    value = {
        "a": (np.int16(3), np.float64("nan")),
        "t": pd.Timestamp("2025-03-01T14:00Z"),
        "n": pd.NaT,
        "inf": float("inf"),
        "b": b"\xff",
    }
    assert json.loads(json.dumps(jsonable(value))) == {
        "a": [3, None],
        "t": "2025-03-01T14:00:00+00:00",
        "n": None,
        "inf": "inf",
        "b": "\ufffd",
    }
