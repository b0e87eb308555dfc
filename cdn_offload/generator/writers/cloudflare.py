"""Cloudflare Logpush `http_requests`, NDJSON with the default unixnano timestamps.

Fields are typed as Logpush writes them (integers, booleans, strings) and sorted by
name. `OriginResponseStatus` is 0 exactly when no origin request happened, which is
what separates an edge redirect (`unknown`, SYNTHETIC) from a pass (`dynamic`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from cdn_offload.generator.catalog import Behaviour as B
from cdn_offload.generator.ids import hex_ids
from cdn_offload.generator.population import CLOUDFLARE_COLO_IDS
from cdn_offload.generator.writers.common import by_behaviour, json_lines
from ingest.schema import CLOUDFLARE_CACHE_STATUS, CacheStatus

CDN = "cloudflare"
FORMAT = "cloudflare_logpush"
UNLOGGED: tuple[str, ...] = ()  # every intended canonical field is logged
ZONE = "cricstream.example"
CACHE = {
    B.HIT: "hit",
    B.HIT_SHIELD: "hit",
    B.HIT_STALE: "stale",
    B.HIT_UPDATING: "updating",
    B.REVALIDATED: "revalidated",
    B.MISS: "miss",
    B.MISS_EXPIRED: "expired",
    B.PASS: "dynamic",
    B.UNCACHEABLE: "bypass",
    B.REDIRECT: "unknown",
    B.ORIGIN_ERROR: "miss",
}
# `unknown` with no origin response is an edge-generated response (schema rule).
INTENDED = {
    b: CacheStatus.SYNTHETIC.value if b == B.REDIRECT else CLOUDFLARE_CACHE_STATUS[v].value
    for b, v in CACHE.items()
}
_NO_ORIGIN = [B.HIT, B.HIT_SHIELD, B.HIT_UPDATING, B.REDIRECT]
_ORIGIN_304 = [B.REVALIDATED]


def header(hour_ms: int) -> bytes:
    del hour_ms
    return b""


def file_name(hour_ms: int, token: str) -> str:
    start = datetime.fromtimestamp(hour_ms / 1000, tz=UTC)
    end = datetime.fromtimestamp(hour_ms / 1000 + 3600, tz=UTC)
    return f"{start:%Y%m%d}/{start:%Y%m%dT%H%M%SZ}_{end:%Y%m%dT%H%M%SZ}_{token}.log.gz"


def enrich(df: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """`df` plus the intended canonical columns and the vendor fields."""
    b = pl.col("behaviour")
    origin_status = (
        pl.when(b.is_in([int(x) for x in _NO_ORIGIN]))
        .then(0)
        .when(b.is_in([int(x) for x in _ORIGIN_304]))
        .then(304)
        .when(b == int(B.HIT_STALE))
        .then(503)
        .otherwise(pl.col("status").cast(pl.Int64))
    )
    return df.with_columns(
        pl.col("t_ms").alias("event_ms"),
        hex_ids(rng, df.height, 8).alias("request_id"),
        by_behaviour(INTENDED).alias("cache_status"),
        pl.col("pop").alias("canonical_pop"),
        by_behaviour(CACHE).alias("cf_cache"),
        origin_status.alias("cf_origin_status"),
        (b == int(B.HIT_SHIELD)).alias("cf_tiered"),
        pl.Series(rng.integers(1, 255, df.height)).alias("cf_server_octet"),
    )


def render(df: pl.DataFrame) -> bytes | memoryview:
    """Log lines of `df` (already enriched), in row order."""
    ns = pl.col("t_ms") * 1_000_000
    no_origin = pl.col("cf_origin_status") == 0
    uri = (
        pl.when(pl.col("query").is_null())
        .then(pl.col("path"))
        .otherwise(pl.concat_str([pl.col("path"), pl.lit("?"), pl.col("query")]))
    )
    mobile = pl.col("user_agent").str.contains(r"Mobile|iPhone|Linux;Android 1[23]")
    device = pl.when(mobile).then(pl.lit("mobile")).otherwise(pl.lit("desktop"))
    colo_ids = pl.col("pop").replace_strict(CLOUDFLARE_COLO_IDS, default=0, return_dtype=pl.Int64)
    fields: list[tuple[str, pl.Expr | str | int | bool]] = [
        ("CacheCacheStatus", pl.col("cf_cache")),
        (
            "CacheResponseBytes",
            pl.when(no_origin & (pl.col("cf_cache") != "unknown"))
            .then(pl.col("body_bytes"))
            .otherwise(0),
        ),
        (
            "CacheResponseStatus",
            pl.when(pl.col("cf_cache") == "unknown")
            .then(0)
            .otherwise(pl.col("status").cast(pl.Int64)),
        ),
        ("CacheTieredFill", pl.col("cf_tiered")),
        ("ClientASN", 55836),
        ("ClientCountry", pl.col("country").str.to_lowercase()),
        ("ClientDeviceType", device),
        ("ClientIP", pl.col("client_ip")),
        ("ClientRequestBytes", pl.col("request_bytes")),
        ("ClientRequestHost", pl.col("host")),
        ("ClientRequestMethod", pl.col("method")),
        ("ClientRequestPath", pl.col("path")),
        ("ClientRequestProtocol", pl.col("protocol").str.replace(r"\.0$", "")),
        ("ClientRequestReferer", pl.col("referer").fill_null("")),
        ("ClientRequestScheme", pl.col("scheme")),
        ("ClientRequestSource", "eyeball"),
        ("ClientRequestURI", uri),
        ("ClientRequestUserAgent", pl.col("user_agent")),
        ("ClientSSLProtocol", pl.col("tls_protocol").fill_null("none")),
        ("ClientSrcPort", pl.col("client_port")),
        ("EdgeColoCode", pl.col("pop")),
        ("EdgeColoID", colo_ids),
        ("EdgeEndTimestamp", ((pl.col("t_ms") + pl.col("taken_ms")) * 1_000_000)),
        ("EdgeResponseBodyBytes", pl.col("body_bytes")),
        ("EdgeResponseBytes", pl.col("bytes_sent")),
        ("EdgeResponseContentType", pl.col("content_type")),
        ("EdgeResponseStatus", pl.col("status").cast(pl.Int64)),
        (
            "EdgeServerIP",
            pl.when(no_origin)
            .then(pl.lit(""))
            .otherwise(pl.format("172.70.84.{}", "cf_server_octet")),
        ),
        ("EdgeStartTimestamp", ns),
        ("EdgeTimeToFirstByteMs", pl.col("ttfb_ms")),
        ("OriginResponseDurationMs", pl.when(no_origin).then(0).otherwise(pl.col("ttfb_ms"))),
        ("OriginResponseStatus", pl.col("cf_origin_status")),
        ("RayID", pl.col("request_id")),
        ("WorkerSubrequest", False),
        ("ZoneName", ZONE),
    ]
    return json_lines(df, fields)
