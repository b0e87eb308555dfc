"""Schemas shared by both rollup paths and the models: stored rollups and run parameters."""

from __future__ import annotations

import pyarrow as pa

from ingest.schema import UTC_MS

# Bump when the rollup columns or their meaning change; stored rollups of another
# version are rebuilt rather than read.
ROLLUP_VERSION = 1

# (name, type, description). Weighted request measures are sums of per-row weights
# rounded to thousandths; weighted byte and latency measures are rounded per row.
ROLLUP_FIELDS: list[tuple[str, pa.DataType, str]] = [
    ("minute", UTC_MS, "Start of the minute (UTC) the requests happened in."),
    ("cdn", pa.string(), "CDN vendor."),
    ("pop", pa.string(), "Edge POP as the vendor logs it."),
    ("host", pa.string(), "Viewer Host header."),
    ("path_template", pa.string(), "Path template; rare templates of an hour fold into /{other}."),
    ("method", pa.string(), "HTTP method."),
    ("status_class", pa.string(), "HTTP status class: 2xx, 3xx, ..., 0xx for aborted requests."),
    ("cache_status", pa.string(), "Canonical cache status."),
    ("rows", pa.int64(), "Log lines (unweighted)."),
    ("requests", pa.float64(), "Viewer requests, weighted by sample_weight."),
    ("bytes", pa.int64(), "Bytes sent to viewers (bytes_sent, else body_bytes), weighted."),
    (
        "cache_requests",
        pa.float64(),
        "Requests whose body came from a CDN cache (served_from_cache = yes).",
    ),
    ("cache_bytes", pa.int64(), "Bytes of those requests."),
    (
        "origin_requests",
        pa.float64(),
        "Requests that contacted the origin (full, conditional or failed).",
    ),
    (
        "origin_bytes",
        pa.int64(),
        "Bytes of requests fully fetched from the origin: the origin egress estimate.",
    ),
    ("revalidation_requests", pa.float64(), "Conditional origin requests (revalidations)."),
    ("incomplete_requests", pa.float64(), "Requests the client aborted."),
    ("distinct_objects", pa.int64(), "Distinct paths in the group (within this minute)."),
    (
        "distinct_queries",
        pa.int64(),
        "Distinct (path, query string) pairs with a query, within this minute.",
    ),
    (
        "time_taken_us_sum",
        pa.int64(),
        "Sum of edge time to last byte, microseconds, over rows that log it.",
    ),
    ("time_taken_rows", pa.int64(), "Rows with a time to last byte."),
    (
        "ttfb_us_sum",
        pa.int64(),
        "Sum of edge time to first byte, microseconds, over rows that log it.",
    ),
    ("ttfb_rows", pa.int64(), "Rows with a time to first byte."),
]

ROLLUP_SCHEMA = pa.schema([pa.field(name, typ) for name, typ, _ in ROLLUP_FIELDS])
ROLLUP_KEYS = [
    "dt",
    "hour",
    "minute",
    "cdn",
    "pop",
    "host",
    "path_template",
    "method",
    "status_class",
    "cache_status",
]


def partitioned_schema() -> pa.Schema:
    """Rollup schema with the dt/hour partition keys in front, as both paths produce it."""
    return pa.schema([pa.field("dt", pa.string()), pa.field("hour", pa.string()), *ROLLUP_SCHEMA])


RUN_PARAMS_SCHEMA = pa.schema(
    [
        pa.field("window_start", UTC_MS),
        pa.field("window_end", UTC_MS),
        pa.field("threshold", pa.float64()),
        pa.field("min_requests", pa.float64()),
        pa.field("p1_min_origin_share", pa.float64()),
        pa.field("p2_min_origin_share", pa.float64()),
        pa.field("max_templates_per_host", pa.int64()),
        pa.field("other_template", pa.string()),
    ]
)
