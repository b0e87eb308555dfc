"""Synthetic canonical edge requests for the analyze benchmark, generated with numpy.

Traffic is shaped like a live cricket match on three CDNs: HLS media segments and
playlists, a score API with a cache-busting query, player images, per-user APIs that
cannot be cached and POST beacons. Rows are written in the raw layout
(`raw/dt=YYYY-MM-DD/hour=HH/part-NNNN.parquet`, zstd, canonical schema) so the
benchmark reads exactly what the ingest pipeline writes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.schema import CANONICAL_SCHEMA, STATUS_FLAGS, CacheStatus
from ingest.storage import Location

CDNS = np.array(["cloudfront", "fastly", "akamai"])
CDN_SHARE = [0.5, 0.3, 0.2]
POPS_PER_CDN = 8
EVENTS = ["ind-vs-aus-final", "eng-vs-nz-semi"]
RENDITIONS = ["1080p", "720p", "480p", "360p", "audio"]
STATUSES = [s.value for s in CacheStatus]


@dataclass(frozen=True)
class Kind:
    """One family of requests: its share of traffic and cache-status mix."""

    name: str
    share: float
    host: str
    method: str
    mean_bytes: float
    statuses: dict[str, float]


KINDS = [
    Kind(
        "segment",
        0.70,
        "live.example.com",
        "GET",
        1_200_000,
        {"HIT": 0.965, "MISS": 0.02, "HIT_UPDATING": 0.005, "REVALIDATED": 0.005, "ERROR": 0.005},
    ),
    Kind(
        "variant",
        0.10,
        "live.example.com",
        "GET",
        1_500,
        {"HIT": 0.86, "REVALIDATED": 0.08, "MISS": 0.04, "HIT_STALE": 0.01, "HIT_UPDATING": 0.01},
    ),
    Kind("master", 0.02, "live.example.com", "GET", 900, {"HIT": 0.98, "MISS": 0.02}),
    Kind("score", 0.06, "api.example.com", "GET", 600, {"MISS": 0.6, "HIT": 0.4}),
    Kind(
        "image",
        0.05,
        "img.example.com",
        "GET",
        30_000,
        {"HIT": 0.95, "MISS": 0.04, "SYNTHETIC": 0.01},
    ),
    Kind("user", 0.04, "api.example.com", "GET", 400, {"UNCACHEABLE": 0.7, "PASS": 0.3}),
    Kind("beacon", 0.03, "api.example.com", "POST", 50, {"PASS": 1.0}),
]


def _paths(
    kind: str, rng: np.random.Generator, n: int, seconds: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """(dictionary of distinct paths, index of each row into it) for one kind."""
    if kind == "segment":
        seg = (seconds // 6).astype(np.int64)
        lo = int(seg.min()) if n else 0
        span = int(seg.max()) - lo + 1 if n else 1
        combos = [(e, r) for e in EVENTS for r in RENDITIONS]
        words = [f"/live/{e}/{r}/seg_" for e, r in combos]
        dictionary = [f"{w}{lo + s}.m4s" for w in words for s in range(span)]
        combo = rng.integers(0, len(combos), n)
        return dictionary, combo * span + (seg - lo)
    if kind == "variant":
        dictionary = [f"/live/{e}/{r}/index.m3u8" for e in EVENTS for r in RENDITIONS]
        return dictionary, rng.integers(0, len(dictionary), n)
    if kind == "master":
        dictionary = [f"/live/{e}/master.m3u8" for e in EVENTS]
        return dictionary, rng.integers(0, len(dictionary), n)
    if kind == "score":
        dictionary = [f"/api/v1/match/{m}/score" for m in (90211, 90212)]
        return dictionary, rng.integers(0, len(dictionary), n)
    if kind == "image":
        dictionary = [f"/img/players/{i}.webp" for i in range(1000, 1500)]
        return dictionary, np.minimum(rng.zipf(1.3, n) - 1, len(dictionary) - 1)
    if kind == "user":
        ids = rng.integers(0, 2**63, size=(50_000, 2), dtype=np.int64)
        dictionary = [
            f"/api/v1/users/{uuid.UUID(int=(int(a) << 64) | int(b))}/prefs" for a, b in ids
        ]
        return dictionary, rng.integers(0, len(dictionary), n)
    return ["/beacon/qos"], np.zeros(n, dtype=np.int64)


def _choice(rng: np.random.Generator, n: int, probs: dict[str, float]) -> np.ndarray:
    keys = list(probs)
    p = np.array([probs[k] for k in keys])
    return np.array([STATUSES.index(k) for k in keys], dtype=np.int8)[
        rng.choice(len(keys), n, p=p / p.sum())
    ]


def _column_from_index(dictionary: list[str], index: np.ndarray) -> pa.Array:
    return pa.DictionaryArray.from_arrays(
        pa.array(index.astype(np.int32)), pa.array(dictionary)
    ).dictionary_decode()


def hour_table(rng: np.random.Generator, start: datetime, n: int, file_no: int) -> pa.Table:
    """`n` canonical rows within the hour starting at `start`, sorted by event time."""
    ms = np.sort(rng.integers(0, 3_600_000, n))
    kind_idx = rng.choice(len(KINDS), n, p=[k.share for k in KINDS])
    path_dict: list[str] = []
    path_idx = np.zeros(n, dtype=np.int64)
    status_idx = np.zeros(n, dtype=np.int8)
    mean_bytes = np.zeros(n)
    for k, kind in enumerate(KINDS):
        mask = kind_idx == k
        count = int(mask.sum())
        offset = start.minute * 60 + start.hour * 3600
        dictionary, idx = _paths(kind.name, rng, count, offset + ms[mask] // 1000)
        path_idx[mask] = idx + len(path_dict)
        path_dict.extend(dictionary)
        status_idx[mask] = _choice(rng, count, kind.statuses)
        mean_bytes[mask] = kind.mean_bytes
    hosts = [k.host for k in KINDS]
    methods = [k.method for k in KINDS]
    head = (rng.random(n) < 0.01) & (kind_idx != len(KINDS) - 1)
    method = np.where(head, "HEAD", np.array(methods)[kind_idx])
    cdn_idx = rng.choice(len(CDNS), n, p=CDN_SHARE)
    pop_idx = cdn_idx * POPS_PER_CDN + rng.integers(0, POPS_PER_CDN, n)
    pops = [f"{c[:3].upper()}{p:02d}-C1" for c in CDNS for p in range(POPS_PER_CDN)]
    served = np.array([STATUS_FLAGS[CacheStatus(s)][0].value for s in STATUSES])
    origin = np.array([STATUS_FLAGS[CacheStatus(s)][1].value for s in STATUSES])
    http = np.where(
        np.array(STATUSES)[status_idx] == "ERROR",
        503,
        np.where(np.array(STATUSES)[status_idx] == "SYNTHETIC", 301, 200),
    )
    sent = np.maximum(1, rng.exponential(mean_bytes)).astype(np.int64)
    score = kind_idx == 3
    query = pc.binary_join_element_wise(
        "ts=", pa.array(start.timestamp() * 1000 + ms).cast(pa.int64()).cast(pa.string()), ""
    )
    query = pc.if_else(pa.array(score), query, pa.scalar(None, pa.string()))
    weight = np.where(rng.random(n) < 0.05, 2.5, 1.0)
    time_taken = np.round(rng.exponential(40.0, n), 3)
    columns = {
        "event_time": pa.array(int(start.timestamp() * 1000) + ms, pa.timestamp("ms", tz="UTC")),
        "event_time_kind": pa.array(np.full(n, "response_end")),
        "cdn": pa.array(CDNS[cdn_idx]),
        "source_format": pa.array(np.full(n, "synthetic")),
        "pop": _column_from_index(pops, pop_idx),
        "host": _column_from_index(hosts, kind_idx),
        "method": pa.array(method),
        "path": _column_from_index(path_dict, path_idx),
        "query": query,
        "status": pa.array(http.astype(np.int16)),
        "cache_status": _column_from_index(STATUSES, status_idx),
        "cache_tier": pa.array(np.full(n, "edge")),
        "served_from_cache": pa.array(served[status_idx]),
        "origin_request": pa.array(origin[status_idx]),
        "is_viewer_request": pa.array(rng.random(n) >= 0.02),
        "incomplete": pa.array(rng.random(n) < 0.005),
        "bytes_sent": pa.array(sent),
        "body_bytes": pa.array(np.maximum(0, sent - 300)),
        "time_taken_ms": pa.array(time_taken),
        "ttfb_ms": pa.array(np.round(time_taken / 3, 3)),
        "sample_weight": pa.array(weight),
        "_source_file": pa.array(np.full(n, f"synthetic-{start:%Y%m%d%H}-{file_no}.log")),
        "_source_line": pa.array(np.arange(1, n + 1)),
    }
    arrays = [columns.get(f.name, pa.nulls(n, f.type)).cast(f.type) for f in CANONICAL_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=CANONICAL_SCHEMA)


def write_raw(
    data: Location,
    rows: int,
    *,
    hours: int = 4,
    files_per_hour: int = 2,
    seed: int = 7,
    start: datetime | None = None,
) -> int:
    """Write `rows` synthetic rows into `data/raw` over `hours` hours; returns rows written."""
    rng = np.random.default_rng(seed)
    start = start or datetime(2024, 3, 10, 13, tzinfo=UTC)
    per_file = rows // (hours * files_per_hour)
    written = 0
    for h in range(hours):
        hour_start = start + timedelta(hours=h)
        part = data.join("raw", f"dt={hour_start:%Y-%m-%d}", f"hour={hour_start:%H}")
        part.makedirs()
        for f in range(files_per_hour):
            n = per_file if (h, f) != (hours - 1, files_per_hour - 1) else rows - written
            table = hour_table(rng, hour_start, n, f)
            pq.write_table(
                table,
                part.join(f"part-{f:04d}.parquet").path,
                filesystem=data.fs,
                compression="zstd",
                row_group_size=1_000_000,
            )
            written += n
    return written
