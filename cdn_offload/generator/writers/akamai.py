"""Akamai DataStream 2 JSON lines: every value a string, `-` for no value.

DS2's cache flag is binary, so revalidations and stale hits log `1` (HIT) and every
origin fetch logs `0` (MISS); pass and uncacheable responses add `cacheable` `0`
(UNCACHEABLE). `reqPath` is written without its leading '/', as Akamai's samples show.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cdn_offload.generator.catalog import Behaviour as B
from cdn_offload.generator.ids import hex_ids
from cdn_offload.generator.population import POPS, REGIONS
from cdn_offload.generator.writers.common import by_behaviour, encode_spaces, json_lines
from ingest.schema import AKAMAI_CACHE_STATUS, CacheStatus

CDN = "akamai"
FORMAT = "akamai_ds2"
UNLOGGED: tuple[str, ...] = ()  # every intended canonical field is logged
STREAM_ID = "48213"
CP_CODE = "1187342"
_FROM_CACHE = (B.HIT, B.HIT_SHIELD, B.HIT_STALE, B.HIT_UPDATING, B.REVALIDATED)
_NOT_CACHEABLE = (B.PASS, B.UNCACHEABLE)
CACHE_STATUS = {b: "1" if b in _FROM_CACHE else "0" for b in B}
CACHEABLE = {b: "0" if b in _NOT_CACHEABLE else "1" for b in B}
INTENDED = {
    b: CacheStatus.UNCACHEABLE.value
    if b in _NOT_CACHEABLE
    else AKAMAI_CACHE_STATUS[CACHE_STATUS[b]].value
    for b in B
}
# Country of each edge server: the region its IP serves.
EDGE_COUNTRY = {ip: REGIONS[r][1] for r, ips in enumerate(POPS["akamai"]) for ip in ips}


def header(hour_ms: int) -> bytes:
    del hour_ms
    return b""


def file_name(hour_ms: int, token: str) -> str:
    return f"ak-{STREAM_ID}-{hour_ms // 1000}-{token}.gz"


def enrich(df: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """`df` plus the intended canonical columns and the vendor fields."""
    return df.with_columns(
        pl.col("t_ms").alias("event_ms"),
        # DS2 request ids look like "3d6ab88.1.1": hex, then hop counters. 48 bits keep
        # them unique across a large match, so tests can join on them.
        (hex_ids(rng, df.height, 6) + ".1.1").alias("request_id"),
        by_behaviour(INTENDED).alias("cache_status"),
        pl.col("pop").replace_strict(EDGE_COUNTRY, return_dtype=pl.String).alias("canonical_pop"),
    )


def _s(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).fill_null("-")


def render(df: pl.DataFrame) -> bytes | memoryview:
    """Log lines of `df` (already enriched), in row order."""
    b = pl.col("behaviour")
    origin = b.is_in([int(x) for x in B if x not in _FROM_CACHE and x != B.REDIRECT])
    secs = pl.format(
        "{}.{}", pl.col("t_ms") // 1000, (pl.col("t_ms") % 1000).cast(pl.String).str.zfill(3)
    )
    fields: list[tuple[str, pl.Expr | str]] = [
        ("version", "1"),
        ("cp", CP_CODE),
        ("reqId", pl.col("request_id")),
        ("reqTimeSec", secs),
        ("bytes", _s(pl.col("body_bytes"))),
        ("cliIP", pl.col("client_ip")),
        ("statusCode", _s(pl.col("status"))),
        ("proto", pl.col("protocol").str.replace(r"\.0$", "")),
        ("reqHost", pl.col("host")),
        ("reqMethod", pl.col("method")),
        ("reqPath", pl.col("path").str.strip_prefix("/")),
        (
            "reqPort",
            pl.when(pl.col("scheme") == "https").then(pl.lit("443")).otherwise(pl.lit("80")),
        ),
        ("rspContentLen", _s(pl.col("body_bytes"))),
        ("rspContentType", pl.col("content_type")),
        ("UA", encode_spaces(pl.col("user_agent"))),
        ("accLang", "en-IN,en;q=0.9"),
        ("cookie", "-"),
        ("range", "-"),
        ("referer", _s(pl.col("referer"))),
        ("xForwardedFor", "-"),
        ("reqEndTimeMSec", "0"),
        ("turnAroundTimeMSec", _s(pl.col("ttfb_ms"))),
        ("transferTimeMSec", _s(pl.col("taken_ms") - pl.col("ttfb_ms"))),
        ("timeToFirstByte", _s(pl.col("ttfb_ms"))),
        ("edgeIP", pl.col("pop")),
        (
            "errorCode",
            pl.when(b == int(B.ORIGIN_ERROR))
            .then(pl.lit("ERR_HTTP_5XX|origin"))
            .otherwise(pl.lit("-")),
        ),
        ("tlsVersion", _s(pl.col("tls_protocol"))),
        ("objSize", _s(pl.col("body_bytes"))),
        ("uncompressedSize", _s(pl.col("body_bytes"))),
        ("maxAgeSec", _s(pl.col("max_age_s"))),
        ("overheadBytes", _s(pl.col("bytes_sent") - pl.col("body_bytes"))),
        ("totalBytes", _s(pl.col("bytes_sent"))),
        ("queryStr", _s(pl.col("query"))),
        ("cacheStatus", by_behaviour(CACHE_STATUS)),
        ("cacheable", by_behaviour(CACHEABLE)),
        ("cacheRefreshSrc", pl.when(origin).then(pl.lit("origin")).otherwise(pl.lit("-"))),
        ("country", pl.col("country")),
        ("city", pl.col("city")),
        ("serverCountry", pl.col("canonical_pop")),
    ]
    return json_lines(df, fields, quote_all=True)
