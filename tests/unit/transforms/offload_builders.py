"""Small builders for offload tests: canonical rows written in the real raw layout."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.schema import CANONICAL_SCHEMA, STATUS_FLAGS, CacheStatus

CASES = Path(__file__).parent / "cases"
T0 = datetime(2024, 3, 10, 10, 0, tzinfo=UTC)
_INTS = {"status", "bytes_sent", "body_bytes", "request_bytes", "max_age_s", "_source_line"}
_FLOATS = {"sample_weight", "time_taken_ms", "ttfb_ms"}
_BOOLS = {"is_viewer_request", "incomplete"}


def row(**fields: Any) -> dict[str, Any]:
    """A canonical viewer GET row; flags follow cache_status unless given."""
    status = CacheStatus(fields.get("cache_status", "HIT"))
    served, origin = STATUS_FLAGS[status]
    base: dict[str, Any] = {
        "event_time": T0,
        "event_time_kind": "response_end",
        "cdn": "cloudfront",
        "source_format": "test",
        "pop": "FRA56-C1",
        "host": "live.example.com",
        "method": "GET",
        "path": "/live/final/1080p/seg_1.m4s",
        "status": 200,
        "cache_status": status.value,
        "cache_tier": "edge",
        "served_from_cache": served.value,
        "origin_request": origin.value,
        "is_viewer_request": True,
        "incomplete": False,
        "bytes_sent": 100,
        "sample_weight": 1.0,
    }
    base.update(fields)
    return base


def rows_from_csv(name: str) -> list[dict[str, Any]]:
    """Rows of `cases/<name>`: empty cells keep the builder default, `null` means null."""
    out = []
    with open(CASES / name, newline="") as fh:
        for raw in csv.DictReader(line for line in fh if not line.startswith("#")):
            fields: dict[str, Any] = {}
            for key, text in raw.items():
                if text == "":
                    continue
                if text == "null":
                    fields[key] = None
                elif key == "second":
                    fields["event_time"] = T0 + timedelta(seconds=int(text))
                elif key in _INTS:
                    fields[key] = int(text)
                elif key in _FLOATS:
                    fields[key] = float(text)
                elif key in _BOOLS:
                    fields[key] = text == "true"
                else:
                    fields[key] = text
            out.append(row(**fields))
    return out


def hits_and_misses(
    path: str, cdn: str, hits: int, misses: int, **fields: Any
) -> list[dict[str, Any]]:
    """`hits` HIT and `misses` MISS rows for one path on one CDN, spread over a minute."""
    made = [row(path=path, cdn=cdn, cache_status="HIT", **fields) for _ in range(hits)]
    made += [row(path=path, cdn=cdn, cache_status="MISS", **fields) for _ in range(misses)]
    for i, r in enumerate(made):
        r.setdefault("event_time", T0)
        r["event_time"] = r["event_time"] + timedelta(milliseconds=i)
    return made


def table(rows: Iterable[dict[str, Any]]) -> pa.Table:
    rows = list(rows)
    return pa.Table.from_pylist(
        [{f.name: r.get(f.name) for f in CANONICAL_SCHEMA} for r in rows], schema=CANONICAL_SCHEMA
    )


def write_raw(
    data_dir: Path, rows: Iterable[dict[str, Any]], name: str = "part-0.parquet"
) -> list[Path]:
    """Write rows under data_dir/raw/dt=/hour=/<name> by event time, as ingest does."""
    by_hour: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        t = r["event_time"].astimezone(UTC)
        by_hour[(f"{t:%Y-%m-%d}", f"{t:%H}")].append(r)
    written = []
    for (dt, hour), part in sorted(by_hour.items()):
        folder = data_dir / "raw" / f"dt={dt}" / f"hour={hour}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table(part), folder / name, compression="zstd")
        written.append(folder / name)
    return written
