from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.parquet_sink import ParquetSink
from ingest.records import QUARANTINE_SCHEMA
from ingest.schema import CANONICAL_SCHEMA
from ingest.storage import resolve


def rows(times):
    n = len(times)
    data = {f.name: pa.nulls(n, f.type) for f in CANONICAL_SCHEMA}
    data["event_time"] = pa.array(times, CANONICAL_SCHEMA.field("event_time").type)
    for name, value in {
        "event_time_kind": "response_end",
        "cdn": "nginx",
        "source_format": "nginx",
        "method": "GET",
        "path": "/",
        "cache_status": "HIT",
        "cache_tier": "edge",
        "served_from_cache": "yes",
        "origin_request": "none",
    }.items():
        data[name] = pa.array([value] * n)
    data["status"] = pa.array([200] * n, pa.int16())
    data["is_viewer_request"] = pa.array([True] * n)
    data["incomplete"] = pa.array([False] * n)
    data["sample_weight"] = pa.array([1.0] * n)
    return pa.table(data, schema=CANONICAL_SCHEMA)


def test_rows_land_in_hour_partitions_and_rewrites_replace(tmp_path):
    sink = ParquetSink(resolve(str(tmp_path)))
    t = rows(
        [datetime(2026, 5, 1, 13, 59, tzinfo=UTC), datetime(2026, 5, 1, 14, 0, tzinfo=UTC)] * 2
    )
    first = sink.write_rows(t, "file-abc-00000")
    again = sink.write_rows(t, "file-abc-00000")
    assert first == again
    assert sorted(p.split(str(tmp_path))[1] for p in first) == [
        "/raw/dt=2026-05-01/hour=13/file-abc-00000.parquet",
        "/raw/dt=2026-05-01/hour=14/file-abc-00000.parquet",
    ]
    total = sum(pq.read_table(p).num_rows for p in first)
    assert total == 4
    assert not list(tmp_path.rglob(".*"))  # no temporary file left behind
    dataset = resolve(str(tmp_path)).join("raw").dataset()
    assert dataset.count_rows() == 4


def test_quarantine_written_only_when_non_empty(tmp_path):
    sink = ParquetSink(resolve(str(tmp_path)))
    assert sink.write_quarantine(QUARANTINE_SCHEMA.empty_table(), "file", "s") == []


def test_statistics_only_on_pruning_columns(tmp_path):
    sink = ParquetSink(resolve(str(tmp_path)))
    when = datetime(2025, 3, 9, 14, 5, tzinfo=UTC)
    (path,) = sink.write_rows(rows([when, when]), "stats")
    meta = pq.ParquetFile(path.removeprefix("file://")).metadata.row_group(0)
    by_name = {meta.column(i).path_in_schema: meta.column(i) for i in range(meta.num_columns)}
    assert by_name["event_time"].statistics.has_min_max
    assert by_name["cache_status"].statistics.has_min_max
    assert by_name["path"].statistics is None or not by_name["path"].statistics.has_min_max
