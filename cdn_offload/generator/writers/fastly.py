"""Fastly log streaming in the cdn-offload recommended JSON format (every value a string).

The keys follow the format the Fastly parser documents (`ingest/formats/fastly.py`,
`docs/fastly-log-format.md`): `%{begin:msec}t` timestamps, the raw
`fastly_info.state`, POP, node, bytes, timings and the Cache-Control sent. Lines are
written without a syslog prefix (`message_type` blank), one file per hour.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from cdn_offload.generator.catalog import Behaviour as B
from cdn_offload.generator.ids import hex_ids
from cdn_offload.generator.writers.common import (
    by_behaviour,
    json_lines,
    seconds_text,
    with_variant,
)
from ingest.schema import FASTLY_STATES, CacheStatus

CDN = "fastly"
FORMAT = "fastly_json"
UNLOGGED: tuple[str, ...] = ()  # every intended canonical field is logged
STATE = {
    B.HIT: "HIT",
    B.HIT_SHIELD: "HIT",
    B.HIT_STALE: "HIT-STALE",
    B.HIT_UPDATING: "HIT-STALE",
    B.REVALIDATED: "HIT-REFRESH",
    B.MISS: "MISS",
    B.MISS_EXPIRED: "MISS",
    B.PASS: "PASS",
    B.UNCACHEABLE: "PASS",
    B.REDIRECT: "HIT-SYNTH",
    B.ORIGIN_ERROR: "MISS",
}
# Any -REFRESH state is a revalidation; other states map through the schema table.
INTENDED = {
    b: CacheStatus.REVALIDATED.value if v.endswith("-REFRESH") else FASTLY_STATES[v].value
    for b, v in STATE.items()
}
# Request clustering inside a POP adds -CLUSTER to some states without changing them.
CLUSTERED = {"HIT": "HIT-CLUSTER", "MISS": "MISS-CLUSTER"}


def header(hour_ms: int) -> bytes:
    del hour_ms
    return b""


def file_name(hour_ms: int, token: str) -> str:
    hour = datetime.fromtimestamp(hour_ms / 1000, tz=UTC)
    return f"cricstream-{hour:%Y-%m-%dT%H}-00-00.000-{token}.log.gz"


def enrich(df: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """`df` plus the intended canonical columns and the vendor fields."""
    # X-Request-ID set with uuid.version4() at the edge, as the docs recommend.
    h = hex_ids(rng, df.height, 16)
    uuid = pl.concat_str(
        [
            h.str.slice(0, 8),
            h.str.slice(8, 4),
            "4" + h.str.slice(13, 3),
            h.str.slice(16, 4),
            h.str.slice(20, 12),
        ],
        separator="-",
    )
    out = df.with_columns(
        pl.col("t_ms").alias("event_ms"),
        uuid.alias("request_id"),
        by_behaviour(INTENDED).alias("cache_status"),
        pl.col("pop").str.slice(-3).alias("canonical_pop"),
        by_behaviour(STATE).alias("fastly_state"),
    )
    return with_variant(out, rng, "fastly_state", 0.15, CLUSTERED)


def _cache_control() -> pl.Expr:
    age = pl.col("max_age_s")
    return (
        pl.when(age.is_null())
        .then(pl.lit("no-store"))
        .when(age == 0)
        .then(pl.lit("private, no-store"))
        .otherwise(pl.format("public, max-age={}", age))
    )


def render(df: pl.DataFrame) -> bytes | memoryview:
    """Log lines of `df` (already enriched), in row order."""
    url = (
        pl.when(pl.col("query").is_null())
        .then(pl.col("path"))
        .otherwise(pl.concat_str([pl.col("path"), pl.lit("?"), pl.col("query")]))
    )
    fields: list[tuple[str, pl.Expr | str]] = [
        ("timestamp", pl.col("t_ms")),
        ("time_elapsed", pl.col("taken_ms") * 1000 + pl.col("client_port") % 1000),
        ("time_to_first_byte", seconds_text(pl.col("ttfb_ms"))),
        ("pop", pl.col("canonical_pop")),
        ("server", pl.col("pop")),
        ("fastly_info_state", pl.col("fastly_state")),
        ("visits_this_service", "0"),
        ("client_ip", pl.col("client_ip")),
        ("geo_country_code", pl.col("country")),
        ("method", pl.col("method")),
        ("protocol", pl.col("protocol").str.replace(r"\.0$", "")),
        ("host", pl.col("host")),
        ("url", url),
        ("status", pl.col("status")),
        ("resp_bytes_written", pl.col("bytes_sent")),
        ("resp_body_bytes_written", pl.col("body_bytes")),
        ("req_bytes_read", pl.col("request_bytes")),
        ("content_type", pl.col("content_type")),
        ("cache_control", _cache_control()),
        ("request_user_agent", pl.col("user_agent")),
        ("request_id", pl.col("request_id")),
    ]
    return json_lines(df, fields, quote_all=True)
