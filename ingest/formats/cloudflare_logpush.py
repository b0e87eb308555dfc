"""Cloudflare Logpush `http_requests` dataset, NDJSON output (section 6 of the format notes).

Supported: one JSON object per line (`output_type` ndjson, the default) with any
`field_names` selection; `EdgeStartTimestamp` in every `timestamp_format` (unixnano,
unix, rfc3339), as a JSON number or a quoted number, decided per line. Not supported:
CSV output (it has no header naming the selected fields).

Mapping decisions (schema.CLOUDFLARE_CACHE_STATUS holds the value table):
- `expired` is MISS with detail EXPIRED.
- "No origin response" means `OriginResponseStatus` 0, or, when that field was not
  selected, an empty `EdgeServerIP`. `unknown` without an origin response is SYNTHETIC
  (Worker, WAF block, redirect rule); `dynamic` without one keeps PASS but sets
  origin_request none.
- A cache-served status is a parent-tier hit when `CacheTieredFill` is true or
  `UpperTierColoID` is non-zero, else an edge hit; other statuses keep tier unknown.
- `ClientRequestSource` other than `eyeball`, or `WorkerSubrequest` true, is not a
  viewer request.
- path and query both come from `ClientRequestURI` when it was selected (one consistent
  pair as on the wire); `ClientRequestPath` is the fallback for the path.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from ingest.json_scalars import read_aligned
from ingest.normalize import finish, split_url, to_float, to_int, with_first_failure
from ingest.records import ParseResult, RawLines, Reason
from ingest.schema import CLOUDFLARE_CACHE_STATUS, CacheStatus, EventTimeKind

FORMAT = "cloudflare_logpush"
CDN = "cloudflare"
DESCRIPTION = "Cloudflare Logpush http_requests, NDJSON (any field selection and timestamp format)"

_STRING_FIELDS = (
    "EdgeStartTimestamp",
    "EdgeEndTimestamp",
    "RayID",
    "ClientRequestHost",
    "ClientRequestPath",
    "ClientRequestURI",
    "ClientRequestMethod",
    "ClientRequestProtocol",
    "ClientRequestSource",
    "ClientRequestUserAgent",
    "ClientIP",
    "ClientCountry",
    "EdgeColoCode",
    "CacheCacheStatus",
    "EdgeResponseContentType",
    "EdgeServerIP",
)
# Numbers and booleans are read as their text (see json_scalars.read_scalar_lines), so
# every field is a string and a quoted number never fails a line.
_SCALAR_FIELDS = (
    "EdgeResponseStatus",
    "EdgeResponseBytes",
    "EdgeResponseBodyBytes",
    "ClientRequestBytes",
    "OriginResponseStatus",
    "EdgeTimeToFirstByteMs",
    "UpperTierColoID",
    "SampleInterval",
    "CacheTieredFill",
    "WorkerSubrequest",
)
_SCHEMA = pa.schema([(name, pa.string()) for name in _STRING_FIELDS + _SCALAR_FIELDS])
_SCALARS = ("EdgeStartTimestamp", "EdgeEndTimestamp", *_SCALAR_FIELDS)
_RFC3339 = "%Y-%m-%dT%H:%M:%S%.f%#z"
_CACHE_STATUS = {k: v.value for k, v in CLOUDFLARE_CACHE_STATUS.items()}
_SERVED = [
    CacheStatus.HIT,
    CacheStatus.HIT_STALE,
    CacheStatus.HIT_UPDATING,
    CacheStatus.REVALIDATED,
]
# (canonical column, vendor field) pairs that must be numbers when present.
_INTS = (
    ("bytes_sent", "EdgeResponseBytes"),
    ("body_bytes", "EdgeResponseBodyBytes"),
    ("request_bytes", "ClientRequestBytes"),
)
_FLOATS = (("ttfb_ms", "EdgeTimeToFirstByteMs"),)


def _read(lines: RawLines) -> pl.DataFrame:
    """`lines` with one string column per schema field, plus `_reason`/`_detail` for bad JSON."""
    base = pl.from_arrow(lines)
    assert isinstance(base, pl.DataFrame)
    return base.hstack(read_aligned(lines.column("raw"), _SCHEMA, _SCALARS))


def _timestamp(value: pl.Expr) -> pl.Expr:
    """UTC Datetime("ms") of a Logpush timestamp: unix s/ms/us/ns digits, decimal seconds or RFC 3339."""
    as_int = value.cast(pl.Int64, strict=False)
    epoch_ms = (
        pl.when(as_int >= 10**17)
        .then(as_int // 1_000_000)
        .when(as_int >= 10**14)
        .then(as_int // 1_000)
        .when(as_int >= 10**11)
        .then(as_int)
        .otherwise(as_int * 1_000)
    )
    decimal_ms = (value.cast(pl.Float64, strict=False) * 1_000).cast(pl.Int64, strict=False)
    millis = (
        pl.when(value.str.contains(r"^\d+$"))
        .then(epoch_ms)
        .when(value.str.contains(r"^\d+\.\d+$"))
        .then(decimal_ms)
    )
    from_epoch = pl.from_epoch(millis, time_unit="ms").dt.replace_time_zone("UTC")
    rfc3339 = value.str.to_datetime(_RFC3339, time_unit="ms", time_zone="UTC", strict=False)
    return pl.coalesce(from_epoch, rfc3339)


def _text(field: str) -> pl.Expr:
    """The field's value, null when empty (Logpush writes "" for a value it does not have)."""
    return pl.when(pl.col(field).str.strip_chars() != "").then(pl.col(field))


def parse(lines: RawLines) -> ParseResult:
    """Canonical rows and rejects for Logpush http_requests NDJSON lines.

    Returns:
        ParseResult accounting for every input line; event_time marks the request start.
    """
    df = _read(lines)
    c = pl.col
    nanos = c("EdgeStartTimestamp").str.contains(r"^\d{17,}$") & c("EdgeEndTimestamp").str.contains(
        r"^\d{17,}$"
    )
    duration_ms = (
        c("EdgeEndTimestamp").cast(pl.Int64, strict=False)
        - c("EdgeStartTimestamp").cast(pl.Int64, strict=False)
    ) / 1e6
    uri_path, uri_query = split_url(c("ClientRequestURI"))
    key = c("CacheCacheStatus").str.strip_chars().str.to_lowercase()
    no_origin = (to_int(c("OriginResponseStatus")) == 0) | (
        c("OriginResponseStatus").is_null() & (c("EdgeServerIP") == "")
    )
    no_origin = no_origin.fill_null(False)
    status = (
        pl.when((key == "unknown") & no_origin)
        .then(pl.lit(CacheStatus.SYNTHETIC.value))
        .otherwise(
            key.replace_strict(
                _CACHE_STATUS, default=CacheStatus.UNKNOWN.value, return_dtype=pl.String
            )
        )
    )
    tiered = (c("CacheTieredFill").str.to_lowercase() == "true") | (
        to_int(c("UpperTierColoID")) > 0
    )
    protocol = c("ClientRequestProtocol").str.replace(r"^(HTTP/\d)$", "${1}.0")
    source = c("ClientRequestSource").str.to_lowercase()
    eyeball = source.is_null() | (source == "eyeball")
    worker = (c("WorkerSubrequest").str.to_lowercase() == "true").fill_null(False)
    df = df.with_columns(
        _timestamp(c("EdgeStartTimestamp")).alias("event_time"),
        _text("EdgeColoCode").alias("pop"),
        _text("ClientRequestHost").alias("host"),
        c("ClientRequestMethod").alias("method"),
        pl.coalesce(uri_path, c("ClientRequestPath")).alias("path"),
        uri_query.alias("query"),
        to_int(c("EdgeResponseStatus")).alias("status"),
        status.alias("cache_status"),
        c("CacheCacheStatus").alias("cache_status_raw"),
        pl.when(key == "expired").then(pl.lit("EXPIRED")).alias("cache_status_detail"),
        pl.when(status.is_in([s.value for s in _SERVED]))
        .then(pl.when(tiered.fill_null(False)).then(pl.lit("parent")).otherwise(pl.lit("edge")))
        .alias("cache_tier"),
        pl.when((key == "dynamic") & no_origin).then(pl.lit("none")).alias("origin_request"),
        (eyeball & ~worker).alias("is_viewer_request"),
        *[to_int(c(field)).alias(name) for name, field in _INTS],
        *[to_float(c(field)).alias(name) for name, field in _FLOATS],
        pl.when(nanos).then(duration_ms).alias("time_taken_ms"),
        _text("EdgeResponseContentType").alias("content_type"),
        _text("ClientCountry").alias("client_country"),
        _text("ClientIP").alias("client_key"),
        _text("ClientRequestUserAgent").alias("user_agent"),
        protocol.alias("protocol"),
        _text("RayID").alias("request_id"),
        pl.when(to_float(c("SampleInterval")) > 0)
        .then(to_float(c("SampleInterval")))
        .otherwise(1.0)
        .alias("sample_weight"),
    )
    df, reason, detail = with_first_failure(
        df,
        (c("EdgeStartTimestamp").is_null(), Reason.MISSING_FIELD, "EdgeStartTimestamp"),
        (c("event_time").is_null(), Reason.BAD_TIMESTAMP, "EdgeStartTimestamp"),
        (c("ClientRequestMethod").is_null(), Reason.MISSING_FIELD, "ClientRequestMethod"),
        (c("EdgeResponseStatus").is_null(), Reason.MISSING_FIELD, "EdgeResponseStatus"),
        (c("path").is_null(), Reason.MISSING_FIELD, "ClientRequestURI"),
        *[
            (
                c(field).is_not_null() & (c(field) != "") & c(name).is_null(),
                Reason.BAD_NUMBER,
                field,
            )
            for name, field in _INTS + _FLOATS
        ],
    )
    df = df.with_columns(
        pl.coalesce(c("_reason"), reason).alias("_reason"),
        pl.when(c("_reason").is_null()).then(detail).otherwise(c("_detail")).alias("_detail"),
    )
    return finish(
        df, cdn=CDN, source_format=FORMAT, event_time_kind=EventTimeKind.REQUEST_START.value
    )


def sniff(sample: list[str], header: str | None) -> bool:
    """True when most sample lines are JSON objects with Logpush http_requests field names."""
    if header is not None or not sample:
        return False
    hits = sum(
        1
        for line in sample
        if line.lstrip().startswith("{")
        and (
            '"EdgeStartTimestamp"' in line
            or ('"ClientRequestHost"' in line and '"EdgeResponseStatus"' in line)
        )
    )
    return hits > 0 and 2 * hits >= len(sample)
