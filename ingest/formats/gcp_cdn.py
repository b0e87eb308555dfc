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

import polars as pl
import pyarrow as pa

from ingest.json_scalars import read_aligned
from ingest.normalize import finish, host_of_url, split_url, to_float, to_int, with_first_failure
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
# Numbers and booleans are read as their text, so a number written either way
# (int64 fields are JSON strings in LogEntry, int32 ones are numbers) reads the same.
_SCALARS = ("status", "requestSize", "responseSize", *_CACHE_FLAGS)
_RFC3339 = "%Y-%m-%dT%H:%M:%S%.f%#z"
_NORMAL_OUTCOMES = (
    "response_sent_by_backend",
    "response_from_cache",
    "response_from_cache_validated",
)
_SYNTHETIC_DETAILS = r"security_policy|identity_aware_proxy|redirect"
_BACKEND_TRIED = r"^(failed_to_connect_to_backend|backend_)"


def _read(lines: RawLines) -> pl.DataFrame:
    """`lines` with the parsed schema columns, plus `_reason`/`_detail` for bad JSON."""
    base = pl.from_arrow(lines)
    assert isinstance(base, pl.DataFrame)
    return base.hstack(read_aligned(lines.column("raw"), _SCHEMA, _SCALARS))


def _cache_columns(req: pl.Expr, details: pl.Expr) -> list[pl.Expr]:
    """cache_status, _raw, _detail and origin_request from the flags and statusDetails."""
    flag = {
        name: (req.struct.field(name).str.to_lowercase() == "true").fill_null(False)
        for name in _CACHE_FLAGS
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
    ]


def parse(lines: RawLines) -> ParseResult:
    """Canonical rows and rejects for Cloud CDN / load-balancer LogEntry JSON lines.

    Returns:
        ParseResult accounting for every input line; event_time is the LogEntry timestamp.
    """
    df = _read(lines)
    c = pl.col
    req = c("httpRequest")
    url = req.struct.field("requestUrl")
    path, query = split_url(url)
    remote = req.struct.field("remoteIp")
    client = (
        pl.when(remote.str.starts_with("["))
        .then(remote.str.extract(r"^\[([^\]]*)\]", 1))
        .when(remote.str.contains(r"^[\d.]+:\d+$"))
        .then(remote.str.replace(r":\d+$", ""))
        .otherwise(remote)
    )
    numbers = {"status": "status", "bytes_sent": "responseSize", "request_bytes": "requestSize"}
    latency = req.struct.field("latency")
    details = c("jsonPayload").struct.field("statusDetails")
    df = df.with_columns(
        c("timestamp")
        .str.to_datetime(_RFC3339, time_unit="ms", time_zone="UTC", strict=False)
        .alias("event_time"),
        c("jsonPayload").struct.field("cacheId").alias("pop"),
        host_of_url(url).alias("host"),
        req.struct.field("requestMethod").alias("method"),
        path.alias("path"),
        query.alias("query"),
        # Absent int fields hold their default 0 (Cloud Logging omits defaults).
        *[
            to_int(req.struct.field(field).fill_null("0")).alias(name)
            for name, field in numbers.items()
        ],
        *_cache_columns(req, details),
        (to_float(latency.str.strip_suffix("s")) * 1000).round(3).alias("time_taken_ms"),
        client.alias("client_key"),
        req.struct.field("userAgent").alias("user_agent"),
        req.struct.field("protocol").str.replace(r"^(HTTP/\d)$", "${1}.0").alias("protocol"),
        c("insertId").alias("request_id"),
        # A client that hung up mid-response is an abort even though a status was sent.
        pl.when(details.str.starts_with("client_disconnected"))
        .then(pl.lit(True))
        .alias("incomplete"),
    )
    df, reason, detail = with_first_failure(
        df,
        (c("timestamp").is_null(), Reason.MISSING_FIELD, "timestamp"),
        (c("event_time").is_null(), Reason.BAD_TIMESTAMP, "timestamp"),
        (req.is_null(), Reason.MISSING_FIELD, "httpRequest"),
        (c("method").is_null(), Reason.MISSING_FIELD, "httpRequest.requestMethod"),
        (url.is_null(), Reason.MISSING_FIELD, "httpRequest.requestUrl"),
        *[
            (
                req.struct.field(field).is_not_null() & c(name).is_null(),
                Reason.BAD_NUMBER,
                f"httpRequest.{field}",
            )
            for name, field in numbers.items()
            if name != "status"
        ],
        (
            latency.is_not_null() & c("time_taken_ms").is_null(),
            Reason.BAD_NUMBER,
            "httpRequest.latency",
        ),
    )
    df = df.with_columns(
        pl.coalesce(c("_reason"), reason).alias("_reason"),
        pl.when(c("_reason").is_null()).then(detail).otherwise(c("_detail")).alias("_detail"),
    )
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
