"""Minute rollups: the live (Polars, incremental) and batch (DuckDB) paths agree exactly."""

from __future__ import annotations

import shutil
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from ingest.schema import CacheStatus
from ingest.storage import resolve
from tests.unit.transforms.offload_builders import T0, row, write_raw
from transforms import models, rollups
from transforms.config import load_settings
from transforms.rollup_schema import ROLLUP_KEYS, partitioned_schema
from transforms.templating import OTHER_TEMPLATE

pytestmark = pytest.mark.unit
PATHS = [
    "/live/final/1080p/seg_{}.m4s",
    "/live/final/720p/index.m3u8",
    "/api/v1/match/{}/score",
    "/img/players/{}.webp",
    "/api/v1/users/user-{}/prefs",
    "/beacon/qos",
    "/promo/{}/banner-{}.jpg",
]


def varied_rows(n: int, seed: int, hours: int = 2) -> list[dict]:
    """Rows covering nulls, fractional weights, shield duplicates, queries and many templates."""
    rng = np.random.default_rng(seed)
    statuses = [s.value for s in CacheStatus]
    made = []
    for i in range(n):
        template = PATHS[int(rng.integers(len(PATHS)))]
        path = template.format(int(rng.integers(40)), int(rng.integers(3)))
        if template.startswith("/promo"):
            path = f"/promo{int(rng.integers(30))}/x.jpg"  # many rare templates, to overflow
        made.append(
            row(
                event_time=T0 + timedelta(milliseconds=int(rng.integers(hours * 3_600_000))),
                cdn=["cloudfront", "fastly", "akamai"][int(rng.integers(3))],
                pop=[None, "FRA56-C1", "LHR3"][int(rng.integers(3))],
                host=[None, "live.example.com", "api.example.com"][int(rng.integers(3))],
                method="POST"
                if path == "/beacon/qos"
                else ["GET", "HEAD"][int(rng.random() < 0.1)],
                path=path,
                query=None if rng.random() < 0.6 else f"ts={int(rng.integers(5))}",
                status=int(rng.choice([0, 200, 206, 304, 404, 503])),
                cache_status=statuses[int(rng.integers(len(statuses)))],
                is_viewer_request=bool(rng.random() > 0.05),
                incomplete=bool(rng.random() < 0.05),
                bytes_sent=None if rng.random() < 0.1 else int(rng.integers(0, 5_000_000)),
                body_bytes=None if rng.random() < 0.5 else int(rng.integers(0, 4_000_000)),
                time_taken_ms=None if rng.random() < 0.2 else float(rng.exponential(40.0)),
                ttfb_ms=None if rng.random() < 0.5 else round(float(rng.exponential(10.0)), 3),
                sample_weight=float(rng.choice([1.0, 1.0, 2.5, 1 / 3, 100.0])),
                _source_line=i + 1,
            )
        )
    return made


def stored(data_dir) -> pa.Table:
    """Every stored rollup row, dt/hour included, in the canonical order."""
    location = models.rollup_location(resolve(str(data_dir)))
    parts = ds.partitioning(pa.schema([("dt", pa.string()), ("hour", pa.string())]), flavor="hive")
    files = location.parquet_files()
    table = ds.dataset(
        files, format="parquet", partitioning=parts, partition_base_dir=location.path
    ).to_table()
    table = table.select(partitioned_schema().names).cast(partitioned_schema())
    return table.sort_by([(k, "ascending", "at_start") for k in ROLLUP_KEYS])


@pytest.mark.parametrize("max_templates", [500, 3], ids=["no-overflow", "overflow"])
def test_live_and_batch_rollups_are_identical(tmp_path, max_templates: int) -> None:
    settings = load_settings(max_templates_per_host=max_templates)
    live, batch = tmp_path / "live", tmp_path / "batch"
    write_raw(live, varied_rows(3000, seed=1))
    write_raw(live, varied_rows(1000, seed=2), name="part-1.parquet")
    shutil.copytree(live, batch)

    rollups.update_rollups(resolve(str(live)), settings)
    rollups.rebuild_rollups(resolve(str(batch)), settings)

    live_rows, batch_rows = stored(live), stored(batch)
    assert live_rows.num_rows > 100
    assert live_rows.equals(batch_rows)
    if max_templates == 3:
        assert OTHER_TEMPLATE in live_rows["path_template"].to_pylist()


def test_rollup_accounts_for_every_viewer_request(tmp_path) -> None:
    rows = varied_rows(2000, seed=3)
    write_raw(tmp_path, rows)

    rollups.rebuild_rollups(resolve(str(tmp_path)), load_settings(max_templates_per_host=3))
    table = stored(tmp_path)

    viewer = [r for r in rows if r["is_viewer_request"]]
    assert sum(table["rows"].to_pylist()) == len(viewer)
    expected = sum(int(np.floor(r["sample_weight"] * 1000 + 0.5)) for r in viewer) / 1000
    assert sum(table["requests"].to_pylist()) == pytest.approx(expected)


def test_overflow_bucket_keeps_top_templates_per_host_and_hour(tmp_path) -> None:
    rows = [row(path=f"/promo{i}/x.jpg") for i in range(5) for _ in range(5 - i)]  # promo0 busiest
    write_raw(tmp_path, rows)

    rollups.rebuild_rollups(resolve(str(tmp_path)), load_settings(max_templates_per_host=2))
    table = stored(tmp_path)

    requests = dict(
        zip(table["path_template"].to_pylist(), table["requests"].to_pylist(), strict=True)
    )
    assert requests == {"/promo0/x.jpg": 5, "/promo1/x.jpg": 4, OTHER_TEMPLATE: 3 + 2 + 1}
    objects = dict(
        zip(table["path_template"].to_pylist(), table["distinct_objects"].to_pylist(), strict=True)
    )
    assert objects[OTHER_TEMPLATE] == 3


def test_rollup_counts_objects_queries_and_latency(tmp_path) -> None:
    rows = [
        row(path="/img/1.webp", query="v=1", time_taken_ms=10.0),
        row(path="/img/1.webp", query="v=2", time_taken_ms=20.5),
        row(path="/img/1.webp", query="v=2", time_taken_ms=None),
        row(path="/img/2.webp", query=None, time_taken_ms=1.0),
    ]
    write_raw(tmp_path, rows)

    rollups.update_rollups(resolve(str(tmp_path)), load_settings())
    (only,) = stored(tmp_path).to_pylist()

    assert only["path_template"] == "/img/{id}.webp"
    assert (only["rows"], only["distinct_objects"], only["distinct_queries"]) == (4, 2, 2)
    assert (only["time_taken_us_sum"], only["time_taken_rows"]) == (31500, 3)


def test_update_recomputes_only_hours_with_changed_files(tmp_path) -> None:
    data = resolve(str(tmp_path))
    settings = load_settings()
    write_raw(tmp_path, varied_rows(500, seed=4))  # hours 10 and 11

    first = rollups.update_rollups(data, settings)
    assert first.rewritten == [("2024-03-10", "10"), ("2024-03-10", "11")]
    assert rollups.update_rollups(data, settings).rewritten == []
    assert rollups.rollups_fresh(data, settings)

    late = [row(event_time=T0 + timedelta(hours=1, minutes=5), path="/late/1")]
    write_raw(tmp_path, late, name="part-late.parquet")
    assert not rollups.rollups_fresh(data, settings)
    assert rollups.update_rollups(data, settings).rewritten == [("2024-03-10", "11")]

    before = stored(tmp_path)
    rollups.rebuild_rollups(data, settings)
    assert stored(tmp_path).equals(before)


def test_update_removes_hours_whose_files_are_gone(tmp_path) -> None:
    data = resolve(str(tmp_path))
    settings = load_settings()
    files = write_raw(tmp_path, varied_rows(300, seed=5))
    rollups.update_rollups(data, settings)

    files[1].unlink()
    run = rollups.update_rollups(data, settings)

    assert run.removed == [("2024-03-10", "11")]
    assert set(stored(tmp_path)["hour"].to_pylist()) == {"10"}


def test_changed_settings_rebuild_every_hour(tmp_path) -> None:
    data = resolve(str(tmp_path))
    write_raw(tmp_path, varied_rows(300, seed=6))
    rollups.update_rollups(data, load_settings())

    narrower = load_settings(max_templates_per_host=2)
    assert not rollups.rollups_fresh(data, narrower)
    assert len(rollups.update_rollups(data, narrower).rewritten) == 2


def test_temporary_files_are_ignored(tmp_path) -> None:
    write_raw(tmp_path, [row()])
    write_raw(tmp_path, [row(), row()], name=".part-1.parquet.tmp.parquet")
    write_raw(tmp_path, [row(), row()], name="_part-2.parquet")

    rollups.update_rollups(resolve(str(tmp_path)), load_settings())

    assert stored(tmp_path)["rows"].to_pylist() == [1]


def test_damaged_manifest_means_recompute(tmp_path) -> None:
    data = resolve(str(tmp_path))
    write_raw(tmp_path, varied_rows(200, seed=7))
    rollups.update_rollups(data, load_settings())
    before = stored(tmp_path)
    (tmp_path / "rollups" / "offload_minute" / "_manifest.json").write_text("{not json")

    assert not rollups.rollups_fresh(data, load_settings())
    assert len(rollups.update_rollups(data, load_settings()).rewritten) == 2
    assert stored(tmp_path).equals(before)
