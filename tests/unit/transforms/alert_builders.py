"""Hand-made minute rollups for alert tests, written in the stored rollup layout.

Every request sends 100 bytes, so byte shares equal request shares. A series is a
list of (hits, misses) per minute of one template on one CDN; hits are served from
cache, misses go to the origin.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.rollup_schema import ROLLUP_SCHEMA

T0 = datetime(2025, 3, 9, 10, 0, tzinfo=UTC)
HOST = "live.example.com"


def minute(i: int) -> datetime:
    """T0 plus `i` minutes."""
    return T0 + timedelta(minutes=i)


def _group(when: datetime, template: str, cdn: str, status: str, n: int) -> dict[str, Any]:
    hit = status == "HIT"
    return {
        "minute": when,
        "cdn": cdn,
        "pop": "FRA1",
        "host": HOST,
        "path_template": template,
        "method": "GET",
        "status_class": "2xx",
        "cache_status": status,
        "rows": n,
        "requests": float(n),
        "bytes": 100 * n,
        "cache_requests": float(n) if hit else 0.0,
        "cache_bytes": 100 * n if hit else 0,
        "origin_requests": 0.0 if hit else float(n),
        "origin_bytes": 0 if hit else 100 * n,
        "revalidation_requests": 0.0,
        "incomplete_requests": 0.0,
        "distinct_objects": 1,
        "distinct_queries": 0,
        "time_taken_us_sum": 0,
        "time_taken_rows": 0,
        "ttfb_us_sum": 0,
        "ttfb_rows": 0,
    }


def series(
    template: str, cdn: str, per_minute: Iterable[tuple[int, int]], first: int = 0
) -> list[dict[str, Any]]:
    """Rollup rows of `template` on `cdn`: (hits, misses) for minutes first, first+1, ..."""
    rows = []
    for i, (hits, misses) in enumerate(per_minute, start=first):
        for status, n in (("HIT", hits), ("MISS", misses)):
            if n:
                rows.append(_group(minute(i), template, cdn, status, n))
    return rows


def write_rollups(data_dir: Path, rows: list[dict[str, Any]]) -> Path:
    """Write `rows` as DATA_DIR/rollups/offload_minute/dt=/hour=/part-0.parquet; returns DATA_DIR."""
    parts: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        parts[(r["minute"].strftime("%Y-%m-%d"), r["minute"].strftime("%H"))].append(r)
    for (dt, hour), part in parts.items():
        folder = data_dir / "rollups" / "offload_minute" / f"dt={dt}" / f"hour={hour}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(part, schema=ROLLUP_SCHEMA), folder / "part-0.parquet")
    return data_dir


def steady(hits: int, misses: int, minutes: int) -> list[tuple[int, int]]:
    return [(hits, misses)] * minutes
