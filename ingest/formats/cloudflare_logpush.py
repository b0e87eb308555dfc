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

from functools import cache

import polars as pl
import pyarrow as pa

from ingest.json_fields import (
    Check,
    Checks,
    first_failures,
    per_distinct,
    url_parts,
    without_blanks,
)
from ingest.json_scalars import read_aligned
from ingest.normalize import finish
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
# Fields Logpush writes as JSON numbers or booleans. Like every field they are read as
# their text (see json_scalars), so a quoted number never fails a line.
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
# What the cache and viewer columns depend on; batches hold few combinations.
_CACHE_KEYS = (
    *("CacheCacheStatus", "_no_origin", "CacheTieredFill", "UpperTierColoID"),
    *("ClientRequestSource", "WorkerSubrequest"),
)
# Logpush writes "" for a value it does not have: these fields are null then.
_TEXT_FIELDS = (
    *("RayID", "ClientRequestHost", "ClientIP", "ClientCountry", "EdgeColoCode"),
    *("EdgeResponseContentType", "ClientRequestUserAgent"),
)


def _read(lines: RawLines) -> pl.DataFrame:
    """`lines` with one string column per schema field, plus `_reason`/`_detail` for bad JSON."""
    base = pl.from_arrow(lines)
    assert isinstance(base, pl.DataFrame)
    return base.hstack(read_aligned(base["raw"], _SCHEMA))


def _epoch_ms(value: pl.Expr, digits: pl.Expr) -> pl.Expr:
    """Milliseconds of unix s/ms/us/ns digits (unit by magnitude) or decimal seconds."""
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
    return pl.when(digits).then(epoch_ms).when(value.str.contains(r"^\d+\.\d+$")).then(decimal_ms)


def _rfc3339_times(df: pl.DataFrame) -> pl.DataFrame:
    """`df` with `event_time` parsed as RFC 3339 where it is not a number."""
    todo = df["event_time"].is_null() & df["EdgeStartTimestamp"].is_not_null()
    if not todo.any():
        return df
    rows = todo.arg_true()
    start = pl.col("EdgeStartTimestamp")
    rfc3339 = start.str.to_datetime(_RFC3339, time_unit="ms", time_zone="UTC", strict=False)
    parsed = df.select(start.gather(rows)).select(rfc3339).to_series()
    return df.with_columns(df["event_time"].scatter(rows, parsed.cast(df["event_time"].dtype)))


def _num(field: str, dtype: type[pl.DataType] = pl.Int64) -> pl.Expr:
    """`normalize.to_int`/`to_float` of the field ('-' and '' cast to null anyway)."""
    number = pl.col(field).cast(pl.Float64, strict=False)
    return number.cast(dtype, strict=False) if dtype is pl.Int64 else number


@cache
def _cache_columns() -> list[pl.Expr]:
    """Cache columns and the viewer flag, from `_CACHE_KEYS` (few distinct values)."""
    c = pl.col
    key = c("CacheCacheStatus").str.strip_chars().str.to_lowercase()
    no_origin = c("_no_origin")
    status = (
        pl.when((key == "unknown") & no_origin)
        .then(pl.lit(CacheStatus.SYNTHETIC.value))
        .otherwise(
            key.replace_strict(
                _CACHE_STATUS, default=CacheStatus.UNKNOWN.value, return_dtype=pl.String
            )
        )
    )
    tiered = (c("CacheTieredFill").str.to_lowercase() == "true") | (_num("UpperTierColoID") > 0)
    source = c("ClientRequestSource").str.to_lowercase()
    eyeball = source.is_null() | (source == "eyeball")
    worker = (c("WorkerSubrequest").str.to_lowercase() == "true").fill_null(False)
    return [
        status.alias("cache_status"),
        pl.when(key == "expired").then(pl.lit("EXPIRED")).alias("cache_status_detail"),
        pl.when(status.is_in([s.value for s in _SERVED]))
        .then(pl.when(tiered.fill_null(False)).then(pl.lit("parent")).otherwise(pl.lit("edge")))
        .alias("cache_tier"),
        pl.when((key == "dynamic") & no_origin).then(pl.lit("none")).alias("origin_request"),
        (eyeball & ~worker).alias("is_viewer_request"),
    ]


@cache
def _checks() -> Checks:
    c = pl.col
    return Checks(
        [
            Check(c("EdgeStartTimestamp").is_null(), Reason.MISSING_FIELD, "EdgeStartTimestamp"),
            Check(c("event_time").is_null(), Reason.BAD_TIMESTAMP, "EdgeStartTimestamp"),
            Check(c("ClientRequestMethod").is_null(), Reason.MISSING_FIELD, "ClientRequestMethod"),
            Check(c("EdgeResponseStatus").is_null(), Reason.MISSING_FIELD, "EdgeResponseStatus"),
            Check(c("path").is_null(), Reason.MISSING_FIELD, "ClientRequestURI"),
            *[
                Check(
                    c(field).is_not_null() & (c(field) != "") & c(name).is_null(),
                    Reason.BAD_NUMBER,
                    field,
                )
                for name, field in _INTS + _FLOATS
            ],
        ]
    )


@cache
def _prepared() -> list[pl.Expr]:
    c = pl.col
    no_origin = (_num("OriginResponseStatus") == 0) | (
        c("OriginResponseStatus").is_null() & (c("EdgeServerIP") == "")
    )
    return [
        c("EdgeStartTimestamp").str.contains(r"^\d+$").alias("_start_digits"),
        no_origin.fill_null(False).alias("_no_origin"),
    ]


@cache
def _columns() -> list[pl.Expr]:
    c = pl.col
    start, end = c("EdgeStartTimestamp"), c("EdgeEndTimestamp")
    nanos = c("_start_digits") & (start.str.len_chars() >= 17) & end.str.contains(r"^\d{17,}$")
    duration_ms = (end.cast(pl.Int64, strict=False) - start.cast(pl.Int64, strict=False)) / 1e6
    millis = _epoch_ms(start, c("_start_digits"))
    protocol = c("ClientRequestProtocol")
    sample = _num("SampleInterval", pl.Float64)
    return [
        pl.from_epoch(millis, time_unit="ms").dt.replace_time_zone("UTC").alias("event_time"),
        c("EdgeColoCode").alias("pop"),
        c("ClientRequestHost").alias("host"),
        c("ClientRequestMethod").alias("method"),
        pl.coalesce(c("_uri_path"), c("ClientRequestPath")).alias("path"),
        c("_uri_query").alias("query"),
        _num("EdgeResponseStatus").alias("status"),
        c("CacheCacheStatus").alias("cache_status_raw"),
        *[_num(field).alias(name) for name, field in _INTS],
        *[_num(field, pl.Float64).alias(name) for name, field in _FLOATS],
        pl.when(nanos).then(duration_ms).alias("time_taken_ms"),
        c("EdgeResponseContentType").alias("content_type"),
        c("ClientCountry").alias("client_country"),
        c("ClientIP").alias("client_key"),
        c("ClientRequestUserAgent").alias("user_agent"),
        pl.when(protocol.str.contains(r"^HTTP/\d$"))
        .then(protocol + ".0")
        .otherwise(protocol)
        .alias("protocol"),
        c("RayID").alias("request_id"),
        pl.when(sample > 0).then(sample).otherwise(1.0).alias("sample_weight"),
    ]


def parse(lines: RawLines) -> ParseResult:
    """Canonical rows and rejects for Logpush http_requests NDJSON lines.

    Returns:
        ParseResult accounting for every input line; event_time marks the request start.
    """
    df = without_blanks(_read(lines), _TEXT_FIELDS, [""])
    df = url_parts(df, "ClientRequestURI", "_uri_path", "_uri_query")
    df = per_distinct(df.with_columns(_prepared()), _CACHE_KEYS, _cache_columns())
    df = first_failures(_rfc3339_times(df.with_columns(_columns())), _checks())
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
