"""Google Cloud CDN request logs: Cloud Logging LogEntry JSON of the external HTTP(S) load
balancer, one entry per line (section 7 of the format notes).

This is the shape Pub/Sub and Cloud Storage exports write. Cloud Logging's JSON drops
fields holding their default value, so an absent boolean is false and an absent
`status`/`responseSize`/`requestSize` is 0 (a client that left before any response).

Classification (section 11.4, Google rows), first match wins:
- `cacheHit` with `cacheValidatedWithOriginServer` is REVALIDATED; `cacheHit` alone is HIT.
- `statusDetails` naming a security-policy decision, Identity-Aware Proxy or a redirect
  is SYNTHETIC: the load balancer answered without cache or backend (like a WAF block).
- Any other `statusDetails` that is neither a normal outcome (`response_sent_by_backend`,
  `response_from_cache*`) nor a client abort (`client_*`) is ERROR, with the value in
  cache_status_detail; origin_request is `failed` when a backend was tried.
- Otherwise `cacheLookup` means MISS, and no lookup means PASS (inference: not eligible
  for caching, or Cloud CDN off for this backend).
cache_status_raw lists the cache flags that were true, '/'-joined (e.g. `cacheLookup/cacheHit`).
"""

from __future__ import annotations

from functools import cache

import polars as pl
import pyarrow as pa

from ingest.json_fields import Check, Checks, first_failures, per_distinct, rfc3339, url_parts
from ingest.json_scalars import read_aligned
from ingest.normalize import finish
from ingest.records import ParseResult, RawLines, Reason
from ingest.schema import CacheStatus, EventTimeKind, OriginRequest

FORMAT = "gcp_cdn"
CDN = "gcp"
DESCRIPTION = "Google Cloud CDN / external HTTP(S) load balancer request logs, LogEntry JSON lines"

_CACHE_FLAGS = ("cacheLookup", "cacheHit", "cacheValidatedWithOriginServer")
_HTTP_REQUEST = (
    "requestMethod",
    "requestUrl",
    "status",
    "requestSize",
    "responseSize",
    "userAgent",
    "remoteIp",
    "latency",
    "protocol",
    *_CACHE_FLAGS,
)
_SCHEMA = pa.schema(
    [
        ("timestamp", pa.string()),
        ("insertId", pa.string()),
        ("httpRequest", pa.struct([(name, pa.string()) for name in _HTTP_REQUEST])),
        ("jsonPayload", pa.struct([("statusDetails", pa.string()), ("cacheId", pa.string())])),
    ]
)
# Numbers and booleans are read as their text (see json_scalars), so a number written
# either way (int64 fields are JSON strings in LogEntry, int32 ones are numbers) reads
# the same.
_NORMAL_OUTCOMES = (
    "response_sent_by_backend",
    "response_from_cache",
    "response_from_cache_validated",
)
_SYNTHETIC_DETAILS = r"security_policy|identity_aware_proxy|redirect"
_BACKEND_TRIED = r"^(failed_to_connect_to_backend|backend_)"


def _read(lines: RawLines) -> pl.DataFrame:
    """`lines` with one column per schema leaf, `_has_request` and `_reason`/`_detail`."""
    base = pl.from_arrow(lines)
    assert isinstance(base, pl.DataFrame)
    fields = read_aligned(base["raw"], _SCHEMA)
    fields = fields.select(
        "timestamp",
        "insertId",
        pl.col("httpRequest").is_not_null().alias("_has_request"),
        pl.col("httpRequest").struct.unnest(),
        pl.col("jsonPayload").struct.unnest(),
        "_reason",
        "_detail",
    )
    return base.hstack(fields)


@cache
def _cache_columns() -> list[pl.Expr]:
    """cache_status, _raw, _detail and origin_request from the flags and statusDetails."""
    details = pl.col("statusDetails")
    flag = {
        name: (pl.col(name).str.to_lowercase() == "true").fill_null(False) for name in _CACHE_FLAGS
    }
    normal = details.is_null() | details.is_in(_NORMAL_OUTCOMES)
    synthetic = details.str.contains(_SYNTHETIC_DETAILS).fill_null(False)
    error = ~normal & ~synthetic & ~details.str.starts_with("client_").fill_null(False)
    status = (
        pl.when(flag["cacheHit"] & flag["cacheValidatedWithOriginServer"])
        .then(pl.lit(CacheStatus.REVALIDATED.value))
        .when(flag["cacheHit"])
        .then(pl.lit(CacheStatus.HIT.value))
        .when(synthetic)
        .then(pl.lit(CacheStatus.SYNTHETIC.value))
        .when(error)
        .then(pl.lit(CacheStatus.ERROR.value))
        .when(flag["cacheLookup"])
        .then(pl.lit(CacheStatus.MISS.value))
        .otherwise(pl.lit(CacheStatus.PASS.value))
    )
    raw = pl.concat_str(
        [pl.when(flag[name]).then(pl.lit(name)) for name in _CACHE_FLAGS],
        separator="/",
        ignore_nulls=True,
    )
    origin = pl.when(status == CacheStatus.ERROR.value).then(
        pl.when(details.str.contains(_BACKEND_TRIED)).then(pl.lit(OriginRequest.FAILED.value))
    )
    return [
        status.alias("cache_status"),
        pl.when(raw != "").then(raw).alias("cache_status_raw"),
        pl.when(~normal).then(details).alias("cache_status_detail"),
        origin.alias("origin_request"),
        # A client that hung up mid-response is an abort even though a status was sent.
        pl.when(details.str.starts_with("client_disconnected"))
        .then(pl.lit(True))
        .alias("incomplete"),
    ]


def _client(df: pl.DataFrame) -> pl.DataFrame:
    """`df` plus `client_key`: `remoteIp` without brackets or an IPv4 port."""
    remote = pl.col("remoteIp")
    client = (
        pl.when(remote.str.starts_with("["))
        .then(remote.str.extract(r"^\[([^\]]*)\]", 1))
        .when(remote.str.contains(r"^[\d.]+:\d+$"))
        .then(remote.str.replace(r":\d+$", ""))
        .otherwise(remote)
    )
    ips = df["remoteIp"]
    # Only values holding '[' or ':' can change.
    todo = (ips.str.starts_with("[") | ips.str.contains(":", literal=True)).fill_null(False)
    if todo.any():
        rows = todo.arg_true()
        fixed = df.select(remote.gather(rows)).select(client).to_series()
        ips = ips.scatter(rows, fixed)
    return df.with_columns(ips.alias("client_key"))


_NUMBERS = {"status": "status", "bytes_sent": "responseSize", "request_bytes": "requestSize"}


@cache
def _columns() -> list[pl.Expr]:
    c = pl.col
    latency = c("latency")
    return [
        c("cacheId").alias("pop"),
        c("requestMethod").alias("method"),
        # Absent int fields hold their default 0 (Cloud Logging omits defaults).
        *[
            c(field)
            .fill_null("0")
            .cast(pl.Float64, strict=False)
            .cast(pl.Int64, strict=False)
            .alias(name)
            for name, field in _NUMBERS.items()
        ],
        (latency.str.strip_suffix("s").cast(pl.Float64, strict=False) * 1000)
        .round(3)
        .alias("time_taken_ms"),
        c("userAgent").alias("user_agent"),
        pl.when(c("protocol").str.contains(r"^HTTP/\d$"))
        .then(c("protocol") + ".0")
        .otherwise(c("protocol"))
        .alias("protocol"),
        c("insertId").alias("request_id"),
    ]


@cache
def _checks() -> Checks:
    c = pl.col
    return Checks(
        [
            Check(c("timestamp").is_null(), Reason.MISSING_FIELD, "timestamp"),
            Check(c("event_time").is_null(), Reason.BAD_TIMESTAMP, "timestamp"),
            Check(~c("_has_request"), Reason.MISSING_FIELD, "httpRequest"),
            Check(c("method").is_null(), Reason.MISSING_FIELD, "httpRequest.requestMethod"),
            Check(c("requestUrl").is_null(), Reason.MISSING_FIELD, "httpRequest.requestUrl"),
            *[
                Check(
                    c(field).is_not_null() & c(name).is_null(),
                    Reason.BAD_NUMBER,
                    f"httpRequest.{field}",
                )
                for name, field in _NUMBERS.items()
                if name != "status"
            ],
            Check(
                c("latency").is_not_null() & c("time_taken_ms").is_null(),
                Reason.BAD_NUMBER,
                "httpRequest.latency",
            ),
        ]
    )


def parse(lines: RawLines) -> ParseResult:
    """Canonical rows and rejects for Cloud CDN / load-balancer LogEntry JSON lines.

    Returns:
        ParseResult accounting for every input line; event_time is the LogEntry timestamp.
    """
    df = url_parts(_read(lines), "requestUrl", "path", "query", host="host")
    df = per_distinct(_client(df), ["statusDetails", *_CACHE_FLAGS], _cache_columns())
    df = df.with_columns(*_columns(), rfc3339(df["timestamp"]).alias("event_time"))
    df = first_failures(df, _checks())
    return finish(df, cdn=CDN, source_format=FORMAT, event_time_kind=EventTimeKind.LOG_ENTRY.value)


def sniff(sample: list[str], header: str | None) -> bool:
    """True when most sample lines are LogEntry JSON with an `httpRequest` from a load balancer."""
    if header is not None or not sample:
        return False
    markers = ('"http_load_balancer"', "LoadBalancerLogEntry", '"cacheId"', '"statusDetails"')
    hits = sum(
        1
        for line in sample
        if line.lstrip().startswith("{")
        and '"httpRequest"' in line
        and any(m in line for m in markers)
    )
    return hits > 0 and 2 * hits >= len(sample)
