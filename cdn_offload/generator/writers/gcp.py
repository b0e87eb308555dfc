"""Google Cloud CDN: load-balancer request logs as Cloud Logging LogEntry JSON lines.

Cloud Logging omits fields holding their default, so the cache flags appear only when
true; int64 sizes are JSON strings and `status` a number. `timestamp` is written as
the response end. Cloud CDN cannot log a pass on a cacheable route apart from a miss:
uncacheable responses are misses (a lookup happened), while POST beacons skip the
lookup and read as PASS. HTTP->HTTPS redirects come from the URL map
(statusDetails `redirected_by_load_balancer`, SYNTHETIC).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from cdn_offload.generator.catalog import Behaviour as B
from cdn_offload.generator.ids import hex_ids
from cdn_offload.generator.writers.common import Field, Raw, by_behaviour, json_lines
from ingest.schema import CacheStatus

CDN = "gcp"
FORMAT = "gcp_cdn"
UNLOGGED = ("country", "body_bytes")
PROJECT = "cricstream-live"
_HIT = ',"cacheLookup":true,"cacheHit":true'
FLAGS = {
    B.HIT: _HIT, B.HIT_SHIELD: _HIT, B.HIT_STALE: _HIT, B.HIT_UPDATING: _HIT,
    B.REVALIDATED: _HIT + ',"cacheValidatedWithOriginServer":true',
    B.MISS: ',"cacheLookup":true', B.MISS_EXPIRED: ',"cacheLookup":true',
    B.UNCACHEABLE: ',"cacheLookup":true', B.ORIGIN_ERROR: ',"cacheLookup":true',
    B.PASS: "", B.REDIRECT: "",
}  # fmt: skip
DETAILS = {
    **{b: "response_from_cache" for b in (B.HIT, B.HIT_SHIELD, B.HIT_STALE, B.HIT_UPDATING)},
    B.REVALIDATED: "response_from_cache_validated",
    **{
        b: "response_sent_by_backend"
        for b in (B.MISS, B.MISS_EXPIRED, B.UNCACHEABLE, B.PASS, B.ORIGIN_ERROR)
    },
    B.REDIRECT: "redirected_by_load_balancer",
}
INTENDED = {
    **{b: CacheStatus.HIT.value for b in (B.HIT, B.HIT_SHIELD, B.HIT_STALE, B.HIT_UPDATING)},
    B.REVALIDATED: CacheStatus.REVALIDATED.value,
    **{b: CacheStatus.MISS.value for b in (B.MISS, B.MISS_EXPIRED, B.UNCACHEABLE, B.ORIGIN_ERROR)},
    B.PASS: CacheStatus.PASS.value,
    B.REDIRECT: CacheStatus.SYNTHETIC.value,
}
_RESOURCE: list[Field] = [
    ("type", "http_load_balancer"),
    ("labels", [
        ("project_id", PROJECT), ("zone", "global"), ("url_map_name", "live-urlmap"),
        ("forwarding_rule_name", "live-https"), ("target_proxy_name", "live-https-proxy"),
        ("backend_service_name", "live-origin"),
    ]),
]  # fmt: skip


def header(hour_ms: int) -> bytes:
    del hour_ms
    return b""


def file_name(hour_ms: int, token: str) -> str:
    # Cloud Logging's Cloud Storage sink: requests/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json
    hour = datetime.fromtimestamp(hour_ms / 1000, tz=UTC)
    return f"requests/{hour:%Y/%m/%d}/{hour:%H}-00-00_{hour:%H}-59-59_S0-{token}.json.gz"


def enrich(df: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """`df` plus the intended canonical columns and the vendor fields."""
    return df.with_columns(
        (pl.col("t_ms") + pl.col("taken_ms")).alias("event_ms"),
        hex_ids(rng, df.height, 7).str.slice(0, 13).alias("request_id"),
        by_behaviour(INTENDED).alias("cache_status"),
        pl.col("pop").alias("canonical_pop"),
    )


def _rfc3339(ms: pl.Expr) -> pl.Expr:
    when = pl.from_epoch(ms, time_unit="ms").dt.strftime("%Y-%m-%dT%H:%M:%S")
    return pl.concat_str(
        [when, pl.lit("."), (ms % 1000).cast(pl.String).str.zfill(3), pl.lit("412Z")]
    )


def render(df: pl.DataFrame) -> bytes | memoryview:
    """Log lines of `df` (already enriched), in row order."""
    url = pl.concat_str(
        [pl.col("scheme"), pl.lit("://"), pl.col("host"), pl.col("path"),
         pl.when(pl.col("query").is_null()).then(pl.lit("")).otherwise("?" + pl.col("query"))]
    )  # fmt: skip
    latency = pl.format(
        "{}.{}s",
        pl.col("taken_ms") // 1000,
        (pl.col("taken_ms") % 1000).cast(pl.String).str.zfill(3),
    )
    backend = pl.col("behaviour").is_in(
        [int(b) for b in B if DETAILS[b] == "response_sent_by_backend"]
    )
    fill = (
        pl.when(pl.col("behaviour").is_in([int(B.MISS), int(B.MISS_EXPIRED)]))
        .then(pl.format(',"cacheFillBytes":"{}"', pl.col("body_bytes")))
        .otherwise(pl.lit(""))
    )
    server = pl.when(backend).then(pl.lit(',"serverIp":"10.128.0.12"')).otherwise(pl.lit(""))
    fields: list[Field] = [
        ("insertId", pl.col("request_id")),
        ("jsonPayload", [
            ("@type", "type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry"),
            ("statusDetails", by_behaviour(DETAILS)),
            ("cacheId", pl.col("pop")),
        ]),
        ("httpRequest", [
            ("requestMethod", pl.col("method")),
            ("requestUrl", url),
            ("requestSize", pl.col("request_bytes").cast(pl.String)),
            ("status", pl.col("status").cast(pl.Int64)),
            ("responseSize", pl.col("bytes_sent").cast(pl.String)),
            ("userAgent", pl.col("user_agent")),
            ("remoteIp", pl.col("client_ip")),
            ("", Raw(server)),
            ("latency", latency),
            ("protocol", pl.col("protocol")),
            ("", Raw(by_behaviour(FLAGS))),
            ("", Raw(fill)),
        ]),
        ("resource", _RESOURCE),
        ("timestamp", _rfc3339(pl.col("event_ms"))),
        ("severity", "INFO"),
        ("logName", f"projects/{PROJECT}/logs/requests"),
        ("receiveTimestamp", _rfc3339(pl.col("event_ms") + 350)),
    ]  # fmt: skip
    return json_lines(df, fields)
