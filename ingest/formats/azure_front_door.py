"""Azure Front Door and Azure CDN access logs: Azure Monitor resource-log JSON, one record
per line (section 8 of the format notes).

Supported: the record shape of diagnostic-settings exports (storage `PT1H.json` blobs,
the Elastic classic fixture, the docs' Standard/Premium example) for categories
`FrontDoorAccessLog` (Standard/Premium), `FrontdoorAccessLog` (classic) and
`AzureCdnAccessLog`. Property names are matched in their camelCase and PascalCase
spellings (a record holding both: the first spelling of `_PROPERTIES` with a value wins,
and the others are not read, so not checked either); numbers and booleans may be JSON
strings or literals.

An Event Hub message holds `{"records": [...]}`, several records in one line. parse()
keeps one output per input line, so it rejects such a line (missing_field); call
`unwrap_records()` on the lines first to turn each record into a line of its own.
Log Analytics exports (`AzureDiagnostics` columns such as `requestUri_s`) are not supported.

Mapping decisions (schema.AZURE_CACHE_STATUS holds the value table, looked up upper-cased):
- `REMOTE_HIT`/`TCP_REMOTE_HIT`, and any cache-served status on a line written by the
  origin shield (`isReceivedFromClient` false), are parent-tier hits; other cache-served
  statuses are edge hits.
- `isReceivedFromClient` false is not a viewer request (the shield's duplicate line).
- Status 499 and ErrorInfo `ClientDisconnected` are incomplete; status 0 is not (Azure
  logs 0 for an origin timeout).
- ErrorInfo other than NoError goes to cache_status_detail (else EXPIRED for
  `TCP_EXPIRED_MISS`); an `Origin*` ErrorInfo on a response not served from cache sets
  origin_request failed.
- event_time is `time`, when the edge finished delivering the response.
"""

from __future__ import annotations

from functools import cache

import duckdb
import polars as pl
import pyarrow as pa

from ingest.json_fields import Check, Checks, first_failures, per_distinct, rfc3339, url_parts
from ingest.json_scalars import read_aligned
from ingest.normalize import finish
from ingest.records import RAW_LINES_SCHEMA, ParseResult, RawLines, Reason
from ingest.schema import (
    AZURE_CACHE_STATUS,
    AZURE_PARENT_HITS,
    CacheStatus,
    EventTimeKind,
    OriginRequest,
)

FORMAT = "azure_front_door"
CDN = "azure"
DESCRIPTION = "Azure Front Door (Standard/Premium, classic) and Azure CDN access logs, JSON records"

# Canonical property name -> spellings seen in raw exports and in the docs.
_PROPERTIES: dict[str, tuple[str, ...]] = {
    "trackingReference": ("trackingReference", "TrackingReference"),
    "httpMethod": ("httpMethod", "HttpMethod"),
    "httpVersion": ("httpVersion", "HttpVersion"),
    "requestUri": ("requestUri", "RequestUri"),
    "hostName": ("hostName", "HostName"),
    "requestBytes": ("requestBytes", "RequestBytes"),
    "responseBytes": ("responseBytes", "ResponseBytes"),
    "userAgent": ("userAgent", "UserAgent"),
    "clientIp": ("clientIp", "ClientIp", "clientIP", "ClientIP"),
    "timeTaken": ("timeTaken", "TimeTaken"),
    "timeToFirstByte": ("timeToFirstByte", "TimeToFirstByte"),
    "httpStatusCode": ("httpStatusCode", "HttpStatusCode"),
    "pop": ("pop", "Pop", "POP"),
    "cacheStatus": ("cacheStatus", "CacheStatus"),
    "isReceivedFromClient": ("isReceivedFromClient", "IsReceivedFromClient"),
    "errorInfo": ("errorInfo", "ErrorInfo"),
}
_ENVELOPE: dict[str, tuple[str, ...]] = {
    "time": ("time", "Time"),
    "category": ("category", "Category"),
}
_SCHEMA = pa.schema(
    [(name, pa.string()) for names in _ENVELOPE.values() for name in names]
    + [
        (
            "properties",
            pa.struct([(n, pa.string()) for names in _PROPERTIES.values() for n in names]),
        )
    ]
)
_ACCESS_CATEGORIES = ("frontdooraccesslog", "azurecdnaccesslog")
_CACHE_STATUS = {k: v.value for k, v in AZURE_CACHE_STATUS.items()}
_SERVED = [CacheStatus.HIT, CacheStatus.REVALIDATED, CacheStatus.PARTIAL_HIT]
_ENVELOPE_RE = r'^\s*\{\s*"records"\s*:\s*\['
_PER_VALUE_KEYS = ("cacheStatus", "isReceivedFromClient", "errorInfo", "httpVersion")
# (canonical column, property) pairs that must be numbers when present.
_NUMBERS = (
    ("bytes_sent", "responseBytes"),
    ("request_bytes", "requestBytes"),
    ("time_taken_ms", "timeTaken"),
    ("ttfb_ms", "timeToFirstByte"),
)


def _read(lines: RawLines) -> pl.DataFrame:
    """`lines` with one column per canonical property name, plus `_reason`/`_detail` for bad JSON."""
    base = pl.from_arrow(lines)
    assert isinstance(base, pl.DataFrame)
    fields = read_aligned(base["raw"], _SCHEMA)
    props = pl.col("properties")
    fields = fields.select(
        *[pl.coalesce([pl.col(n) for n in names]).alias(key) for key, names in _ENVELOPE.items()],
        *[
            pl.coalesce([props.struct.field(n) for n in names]).alias(key)
            for key, names in _PROPERTIES.items()
        ],
        props.is_null().alias("_no_properties"),
        "_reason",
        "_detail",
    )
    return base.hstack(fields)


@cache
def _per_value_columns() -> list[pl.Expr]:
    """Cache columns, the viewer flag and the protocol, from `_PER_VALUE_KEYS`."""
    c = pl.col
    version = c("httpVersion")
    protocol = version.str.replace(r"^(?:HTTP/)?(\d)(?:\.(\d))?.*$", "HTTP/${1}.${2}")
    key = c("cacheStatus").str.strip_chars().str.to_uppercase()
    status = key.replace_strict(
        _CACHE_STATUS, default=CacheStatus.UNKNOWN.value, return_dtype=pl.String
    )
    from_client = (c("isReceivedFromClient").str.to_lowercase() != "false").fill_null(True)
    served = status.is_in([s.value for s in _SERVED])
    error_info = pl.when(~c("errorInfo").is_in(["NoError", "", "N/A"])).then(c("errorInfo"))
    return [
        status.alias("cache_status"),
        c("cacheStatus").alias("cache_status_raw"),
        pl.coalesce(error_info, pl.when(key == "TCP_EXPIRED_MISS").then(pl.lit("EXPIRED"))).alias(
            "cache_status_detail"
        ),
        pl.when(key.is_in(list(AZURE_PARENT_HITS)) | (served & ~from_client))
        .then(pl.lit("parent"))
        .when(served)
        .then(pl.lit("edge"))
        .alias("cache_tier"),
        pl.when(~served & c("errorInfo").str.starts_with("Origin"))
        .then(pl.lit(OriginRequest.FAILED.value))
        .alias("origin_request"),
        from_client.alias("is_viewer_request"),
        protocol.str.replace(r"\.$", ".0").alias("protocol"),
    ]


@cache
def _checks() -> Checks:
    c = pl.col
    category = c("category")
    # Spellings seen in exports skip the lower-casing.
    known = category.is_in(["FrontDoorAccessLog", "FrontdoorAccessLog", "AzureCdnAccessLog"])
    return Checks(
        [
            Check(
                c("raw").str.contains(_ENVELOPE_RE),
                Reason.MISSING_FIELD,
                "records envelope: unwrap_records() first",
            ),
            Check(
                category.is_not_null() & ~known,
                Reason.UNKNOWN_FORMAT,
                "category",
                refine=~category.str.to_lowercase().is_in(_ACCESS_CATEGORIES),
            ),
            Check(c("_no_properties"), Reason.MISSING_FIELD, "properties"),
            Check(c("time").is_null(), Reason.MISSING_FIELD, "time"),
            Check(c("event_time").is_null(), Reason.BAD_TIMESTAMP, "time"),
            Check(c("method").is_null(), Reason.MISSING_FIELD, "httpMethod"),
            Check(c("httpStatusCode").is_null(), Reason.MISSING_FIELD, "httpStatusCode"),
            Check(c("requestUri").is_null(), Reason.MISSING_FIELD, "requestUri"),
            *[
                Check(
                    c(field).is_not_null() & (c(field) != "") & c(name).is_null(),
                    Reason.BAD_NUMBER,
                    field,
                )
                for name, field in _NUMBERS
            ],
        ]
    )


def _number(field: str) -> pl.Expr:
    """`normalize.to_float` of the field ('-' and '' cast to null anyway)."""
    return pl.col(field).cast(pl.Float64, strict=False)


@cache
def _columns() -> list[pl.Expr]:
    c = pl.col
    http_status = _number("httpStatusCode").cast(pl.Int64, strict=False)
    return [
        pl.coalesce(c("_uri_host"), c("hostName")).alias("host"),
        c("httpMethod").alias("method"),
        http_status.alias("status"),
        ((http_status == 499) | (c("errorInfo") == "ClientDisconnected"))
        .fill_null(False)
        .alias("incomplete"),
        _number("responseBytes").cast(pl.Int64, strict=False).alias("bytes_sent"),
        _number("requestBytes").cast(pl.Int64, strict=False).alias("request_bytes"),
        (_number("timeTaken") * 1000).round(3).alias("time_taken_ms"),
        (_number("timeToFirstByte") * 1000).round(3).alias("ttfb_ms"),
        c("clientIp").alias("client_key"),
        c("userAgent").alias("user_agent"),
        c("trackingReference").alias("request_id"),
    ]


def parse(lines: RawLines) -> ParseResult:
    """Canonical rows and rejects for Azure Front Door / Azure CDN access-log records.

    Returns:
        ParseResult accounting for every input line; event_time marks the response end.
    """
    df = url_parts(_read(lines), "requestUri", "path", "query", host="_uri_host")
    df = per_distinct(df, _PER_VALUE_KEYS, _per_value_columns())
    df = df.with_columns(*_columns(), rfc3339(df["time"]).alias("event_time"))
    df = first_failures(df, _checks())
    return finish(
        df, cdn=CDN, source_format=FORMAT, event_time_kind=EventTimeKind.RESPONSE_END.value
    )


def unwrap_records(lines: RawLines) -> RawLines:
    """One line per record: each `{"records": [...]}` line is replaced, in place, by its records.

    Every record keeps the lineage (file, line, topic, partition, offset) of the line it
    came from. Other lines, and envelopes that are not valid JSON or hold no record,
    pass unchanged so that parse() rejects them with a reason.
    """
    df = pl.from_arrow(lines)
    assert isinstance(df, pl.DataFrame)
    df = df.with_row_index("_i")
    envelope = df.filter(pl.col("raw").str.contains(_ENVELOPE_RE))
    if envelope.height == 0:
        return lines
    con = duckdb.connect()
    con.register("envelope", envelope.select("_i", "raw").to_arrow())
    records = con.sql(
        """
        with valid as (
            select _i, raw from envelope
            where json_valid(raw) and json_type(raw, '$.records') = 'ARRAY'
              and json_array_length(raw, '$.records') > 0
        )
        select _i, unnest(range(json_array_length(raw, '$.records')::bigint)) as _k,
               unnest(json_extract(raw, '$.records[*]'))::varchar as raw
        from valid
        """
    ).to_arrow_table()
    con.close()
    exploded = pl.from_arrow(records)
    assert isinstance(exploded, pl.DataFrame)
    lineage = df.drop("raw")
    kept = df.filter(~pl.col("_i").is_in(exploded["_i"].unique().implode()))
    out = pl.concat(
        [
            kept.with_columns(pl.lit(0, dtype=pl.Int64).alias("_k")),
            exploded.with_columns(
                pl.col("_i").cast(df.schema["_i"]), pl.col("_k").cast(pl.Int64)
            ).join(lineage, on="_i", how="left"),
        ],
        how="diagonal",
    ).sort("_i", "_k")
    return out.select(RAW_LINES_SCHEMA.names).to_arrow().cast(RAW_LINES_SCHEMA)


def sniff(sample: list[str], header: str | None) -> bool:
    """True when most sample lines are Azure Front Door / CDN access-log records (or envelopes)."""
    if header is not None or not sample:
        return False
    markers = (
        "frontdooraccesslog",
        "azurecdnaccesslog",
        "microsoft.cdn/profiles/accesslog",
        "/frontdoor/accesslog",
    )
    hits = sum(
        1
        for line in sample
        if line.lstrip().startswith("{")
        and '"properties"' in line
        and any(m in line.lower() for m in markers)
    )
    return hits > 0 and 2 * hits >= len(sample)
