"""CloudFront standard (legacy W3C) logs: 33 TAB-separated fields, one gzip file per hour.

CloudFront cannot tell pass or uncacheable from a miss, so those behaviours are logged
(and intended) as `Miss`; an origin 5xx surfaces as `Error` with an origin subtype.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from cdn_offload.generator.catalog import Behaviour as B
from cdn_offload.generator.ids import b64_ids
from cdn_offload.generator.writers.common import by_behaviour, encode_spaces, seconds_text, tsv
from ingest.schema import CLOUDFRONT_RESULT_TYPES

CDN = "cloudfront"
FORMAT = "cloudfront_standard"
# Canonical fields this format does not log: the intended values are null for them.
UNLOGGED = ("country", "body_bytes")
DISTRIBUTION_ID = "E1CRKLIVE7Q2ZX"
DISTRIBUTION_DOMAIN = "d3f4k8x2lmq9zt.cloudfront.net"
FIELDS = (
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
)
RESULT = {
    B.HIT: "Hit",
    B.HIT_SHIELD: "Hit",
    B.HIT_STALE: "Hit",
    B.HIT_UPDATING: "Hit",
    B.REVALIDATED: "RefreshHit",
    B.MISS: "Miss",
    B.MISS_EXPIRED: "Miss",
    B.PASS: "Miss",
    B.UNCACHEABLE: "Miss",
    B.REDIRECT: "Redirect",
    B.ORIGIN_ERROR: "Error",
}
DETAILED = {**RESULT, B.HIT_SHIELD: "OriginShieldHit", B.ORIGIN_ERROR: "OriginError"}
INTENDED = {b: CLOUDFRONT_RESULT_TYPES[v].value for b, v in RESULT.items()}


def header(hour_ms: int) -> bytes:
    del hour_ms
    return ("#Version: 1.0\n#Fields: " + " ".join(FIELDS) + "\n").encode()


def file_name(hour_ms: int, token: str) -> str:
    hour = datetime.fromtimestamp(hour_ms / 1000, tz=UTC)
    return f"{DISTRIBUTION_ID}.{hour:%Y-%m-%d-%H}.{token}.gz"


def enrich(df: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """`df` plus the intended canonical columns and the vendor fields."""
    end_ms = pl.col("t_ms") + pl.col("taken_ms")
    return df.with_columns(
        # CloudFront logs when the response ended, to the second.
        (end_ms // 1000 * 1000).alias("event_ms"),
        (b64_ids(rng, df.height, 42).str.slice(0, 54) + "==").alias("request_id"),
        by_behaviour(INTENDED).alias("cache_status"),
        pl.col("pop").alias("canonical_pop"),
        by_behaviour(RESULT).alias("cf_result"),
        pl.when(pl.col("status") == 504)
        .then(pl.lit("OriginReadError"))
        .otherwise(by_behaviour(DETAILED))
        .alias("cf_detailed"),
    )


def render(df: pl.DataFrame) -> bytes | memoryview:
    """Log lines of `df` (already enriched), in row order."""
    when = pl.from_epoch(pl.col("event_ms"), time_unit="ms")
    text = df.select(
        when.dt.strftime("%Y-%m-%d").alias("date"),
        when.dt.strftime("%H:%M:%S").alias("time"),
        pl.col("pop"),
        pl.col("bytes_sent").cast(pl.String),
        pl.col("client_ip"),
        pl.col("method"),
        pl.lit(DISTRIBUTION_DOMAIN).alias("cs_host"),
        pl.col("path"),
        pl.col("status").cast(pl.String),
        encode_spaces(pl.col("referer")).alias("referer"),
        encode_spaces(pl.col("user_agent")).alias("ua"),
        pl.col("query"),
        pl.lit(None, dtype=pl.String).alias("cookie"),
        pl.col("cf_result"),
        pl.col("request_id"),
        pl.col("host"),
        pl.col("scheme"),
        pl.col("request_bytes").cast(pl.String),
        seconds_text(pl.col("taken_ms")).alias("taken"),
        pl.lit(None, dtype=pl.String).alias("xff"),
        pl.col("tls_protocol"),
        pl.col("tls_cipher"),
        pl.col("cf_result").alias("cf_response"),
        pl.col("protocol"),
        pl.lit(None, dtype=pl.String).alias("fle_status"),
        pl.lit(None, dtype=pl.String).alias("fle_fields"),
        pl.col("client_port").cast(pl.String),
        seconds_text(pl.col("ttfb_ms")).alias("ttfb"),
        pl.col("cf_detailed"),
        pl.col("content_type"),
        pl.col("body_bytes").cast(pl.String),
        pl.lit(None, dtype=pl.String).alias("range_start"),
        pl.lit(None, dtype=pl.String).alias("range_end"),
    )
    return tsv(text, text.columns)
