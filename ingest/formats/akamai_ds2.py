"""Akamai DataStream 2 edge logs (format `akamai_ds2`), JSON or structured lines.

Two line shapes are read, chosen per line (a line starting with `{` is JSON):

- **JSON**: one object per line, every value a string (bare numbers are accepted
  too), keys as in the DS2 field catalogue: `reqTimeSec`, `reqHost`, `reqPath`,
  `queryStr`, `statusCode`, `cacheStatus`, `cacheable`, `cacheRefreshSrc`, `bytes`,
  `totalBytes`, `reqMethod`, `cliIP`, `UA`, `country`, `reqId`, `proto`,
  `rspContentType`, `maxAgeSec`, `reqEndTimeMSec`, `turnAroundTimeMSec`,
  `transferTimeMSec`, `timeToFirstByte`, `isMidgress`, `serverCountry`.
- **Structured**: space- (or tab-) delimited values without a header, in the
  stream's field order. Only the order of Akamai's datastream-sdk `configs/stream.json`
  is supported (`STRUCTURED_FIELDS`: the format version, then 37 fields); a line
  with another field count is rejected as `bad_field_count`.

`-`, empty and `^` mean no value. Decisions (ambiguous cases):
- `event_time` is `reqTimeSec` (epoch seconds, optional millisecond fraction): when
  the edge accepted the request, so `request_start`. Milliseconds by mistake give a
  time outside 2000-2099, rejected as `bad_timestamp`.
- Cache status from schema.AKAMAI_CACHE_STATUS: `1` HIT, `0` MISS, `0` with
  `cacheable` `0` UNCACHEABLE; `-`, absent or any other value UNKNOWN.
  `cache_status_raw` is `cacheStatus`, or `cacheStatus/cacheable` when `cacheable` is
  streamed; `cacheRefreshSrc` goes to `cache_status_detail`. Akamai documents `1` as
  "served from edge cache or peer", so the tier stays unknown.
- `reqPath` is logged without the leading '/', which finish() adds. A `-` path is
  the root (its only character was the stripped '/'); an absent one is rejected.
- `isMidgress` (values unverified) `1`/`true`/`yes` marks Akamai-to-Akamai traffic:
  not a viewer request.
- `pop`: DS2 logs no POP name. The edge IP is a server, not a location, and the CP
  code is a property, so `pop` is `serverCountry` (edge server country) when that
  field is streamed, else null.
- `time_taken_ms` = reqEndTimeMSec + turnAroundTimeMSec + transferTimeMSec (what is
  logged of the three); `ttfb_ms` = `timeToFirstByte`, else reqEnd + turnAround.
- `bytes_sent` is `totalBytes` (body plus overhead), `body_bytes` is `bytes`.
- `UA` is percent-decoded; `proto` counts only when it is an HTTP version (the
  structured sample logs the scheme, `HTTP`, there).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache

import polars as pl
import pyarrow as pa

from ingest.json_fields import (
    Check,
    Checks,
    first_failures,
    http_version,
    per_distinct,
    without_blanks,
)
from ingest.json_scalars import read_aligned
from ingest.normalize import finish, percent_decode
from ingest.records import ParseResult, RawLines, Reason
from ingest.schema import AKAMAI_CACHE_STATUS, CacheStatus, EventTimeKind

FORMAT = "akamai_ds2"
CDN = "akamai"
DESCRIPTION = "Akamai DataStream 2, JSON lines or structured (space-delimited, SDK field order)"

# Field order of datastream-sdk configs/stream.json (sorted by `order`), after the
# leading format version; `field_1101` is the SDK's unnamed placeholder field.
STRUCTURED_FIELDS = (
    *("version", "cp", "reqId", "reqTimeSec", "bytes", "field_1101", "cliIP", "statusCode"),
    *("proto", "reqHost", "reqMethod", "reqPath", "reqPort", "rspContentLen"),
    *("rspContentType", "UA", "accLang", "cookie", "range", "referer", "xForwardedFor"),
    *("reqEndTimeMSec", "turnAroundTimeMSec", "transferTimeMSec", "edgeIP", "errorCode"),
    *("customField", "tlsOverheadTimeMSec", "tlsVersion", "objSize", "uncompressedSize"),
    *("maxAgeSec", "overheadBytes", "dnsLookupTimeMSec", "totalBytes", "queryStr"),
    *("cacheStatus", "cacheRefreshSrc"),
)
_KEYS = (
    *("reqTimeSec", "reqHost", "reqPath", "queryStr", "statusCode", "reqMethod", "proto"),
    *("cacheStatus", "cacheable", "cacheRefreshSrc", "bytes", "totalBytes", "cliIP", "UA"),
    *("country", "reqId", "rspContentType", "maxAgeSec", "reqEndTimeMSec", "isMidgress"),
    *("turnAroundTimeMSec", "transferTimeMSec", "timeToFirstByte", "serverCountry"),
)
# Bare numbers and booleans under our keys read as their text, so all are strings.
_SCHEMA = pa.schema([(k, pa.string()) for k in _KEYS])
_NUMERIC = (
    *("bytes", "totalBytes", "maxAgeSec", "reqEndTimeMSec", "turnAroundTimeMSec"),
    *("transferTimeMSec", "timeToFirstByte"),
)
# Timestamps outside this range are unit or typing mistakes, not requests.
PLAUSIBLE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
_CACHE = {k: v.value for k, v in AKAMAI_CACHE_STATUS.items()}


_BLANKS = ["-", "^", ""]
_PER_VALUE_COLUMNS = ("a_cacheStatus", "a_cacheable", "a_isMidgress", "a_proto")
# Keys read as text, with `-`, `^` and empty meaning no value (numbers are cast, which
# turns those into null anyway).
_TEXT = (
    *("reqHost", "reqMethod", "queryStr", "cacheStatus", "cacheable", "cacheRefreshSrc"),
    *("cliIP", "UA", "country", "reqId", "rspContentType", "serverCountry"),
)
_TEXT_COLUMNS = ("path", *(f"a_{k}" for k in _TEXT))


def _blank(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().is_in(_BLANKS)


def _a(key: str) -> pl.Expr:
    return pl.col(f"a_{key}")


def _num(key: str) -> pl.Expr:
    return pl.col(f"n_{key}")


def _json_fields(raw: pl.Series) -> pl.DataFrame:
    """`a_<key>` columns and reader `_reason`/`_detail`, one row per JSON line of `raw`."""
    fields = read_aligned(raw, _SCHEMA)
    return fields.select(pl.exclude("_reason", "_detail").name.prefix("a_"), "_reason", "_detail")


def _json_part(df: pl.DataFrame) -> pl.DataFrame:
    """`_idx`, `a_<key>` columns and reader `_reason`/`_detail` for JSON lines."""
    return _json_fields(df["raw"]).with_columns(df["_idx"])


def _structured_part(df: pl.DataFrame) -> pl.DataFrame:
    """`_idx`, `a_<key>` columns and `_reason`/`_detail` for structured lines."""
    text = pl.col("raw").str.replace_all("\t", " ", literal=True).str.strip_chars()
    expected = len(STRUCTURED_FIELDS)
    tokens = df.select(
        "_idx",
        (text.str.count_matches(" ", literal=True) + 1).alias("_count"),
        text.str.splitn(" ", expected).struct.rename_fields(list(STRUCTURED_FIELDS)).alias("_t"),
    )
    wrong = pl.col("_count") != expected
    return tokens.select(
        "_idx",
        *[pl.col("_t").struct.field(k).alias(f"a_{k}") for k in STRUCTURED_FIELDS if k in _KEYS],
        pl.when(wrong).then(pl.lit(Reason.BAD_FIELD_COUNT.value)).alias("_reason"),
        pl.when(wrong)
        .then(pl.format("expected {} fields, got {}", pl.lit(expected), pl.col("_count")))
        .alias("_detail"),
    )


@cache
def _per_value_columns() -> list[pl.Expr]:
    """Columns that depend only on `_PER_VALUE_COLUMNS` (few distinct values per batch)."""
    cs, cacheable = _a("cacheStatus"), _a("cacheable")
    unknown = CacheStatus.UNKNOWN.value
    status = (
        pl.when((cs == "0") & (cacheable == "0"))
        .then(pl.lit(CacheStatus.UNCACHEABLE.value))
        .otherwise(cs.replace_strict(_CACHE, default=unknown, return_dtype=pl.String))
        .fill_null(unknown)
    )
    raw = (
        pl.when(cacheable.is_null())
        .then(cs)
        .otherwise(pl.concat_str([cs.fill_null("-"), cacheable], separator="/"))
    )
    midgress = _a("isMidgress").str.to_lowercase().is_in(["1", "true", "yes", "y"])
    return [
        status.alias("cache_status"),
        raw.alias("cache_status_raw"),
        (~midgress.fill_null(False)).alias("is_viewer_request"),
        http_version(_a("proto")).alias("protocol"),
    ]


@cache
def _checks() -> Checks:
    checks = [
        Check(_a("reqTimeSec").is_null(), Reason.MISSING_FIELD, "reqTimeSec"),
        Check(pl.col("path").is_null(), Reason.MISSING_FIELD, "reqPath"),
        Check(_a("reqMethod").is_null(), Reason.MISSING_FIELD, "reqMethod"),
        # A status that does not cast is missing when blank, else bad (below).
        Check(
            pl.col("status").is_null(),
            Reason.MISSING_FIELD,
            "statusCode",
            refine=_a("statusCode").is_null() | _blank(_a("statusCode")),
        ),
        Check(
            pl.col("event_time").is_null(), Reason.BAD_TIMESTAMP, "reqTimeSec is not epoch seconds"
        ),
        Check(
            ~pl.col("event_time").is_between(*PLAUSIBLE), Reason.BAD_TIMESTAMP, "implausible year"
        ),
        Check(pl.col("status").is_null(), Reason.BAD_STATUS, "statusCode is not an integer"),
    ]
    for key in _NUMERIC:
        bad = _a(key).is_not_null() & _num(key).is_null()
        checks.append(Check(bad, Reason.BAD_NUMBER, key, refine=~_blank(_a(key))))
    return Checks(checks)


@cache
def _numbers() -> list[pl.Expr]:
    """Numbers (a blank casts to null, as `-` does), the status, and the path ('-' is '/')."""
    return [
        *[_a(k).cast(pl.Float64, strict=False).alias(f"n_{k}") for k in ("reqTimeSec", *_NUMERIC)],
        _a("statusCode").cast(pl.Int64, strict=False).alias("status"),
        # '-' is the root path: DS2 strips the leading '/', leaving nothing.
        pl.when(_a("reqPath").is_null())
        .then(None)
        .otherwise(pl.col("path").fill_null(""))
        .alias("path"),
    ]


@cache
def _columns() -> list[pl.Expr]:
    timing = [_num(k) for k in ("reqEndTimeMSec", "turnAroundTimeMSec", "transferTimeMSec")]
    has_timing = pl.any_horizontal([t.is_not_null() for t in timing])
    first_byte = timing[0].fill_null(0) + timing[1]
    return [
        (_num("reqTimeSec") * 1000)
        .round(0)
        .cast(pl.Int64, strict=False)
        .cast(pl.Datetime("ms", "UTC"))
        .alias("event_time"),
        _a("serverCountry").str.to_uppercase().alias("pop"),
        _a("reqHost").alias("host"),
        _a("reqMethod").alias("method"),
        _a("queryStr").alias("query"),
        _num("totalBytes").cast(pl.Int64, strict=False).alias("bytes_sent"),
        _num("bytes").cast(pl.Int64, strict=False).alias("body_bytes"),
        pl.when(has_timing).then(pl.sum_horizontal(timing)).alias("time_taken_ms"),
        pl.coalesce(_num("timeToFirstByte"), first_byte).alias("ttfb_ms"),
        _a("rspContentType").alias("content_type"),
        _num("maxAgeSec").cast(pl.Int64, strict=False).alias("max_age_s"),
        _a("country").alias("client_country"),
        _a("cliIP").alias("client_key"),
        _a("UA").alias("user_agent"),
        _a("cacheRefreshSrc").alias("cache_status_detail"),
        _a("reqId").alias("request_id"),
    ]


def parse(lines: RawLines) -> ParseResult:
    """Canonical rows and rejects for DS2 lines; together they hold every input line."""
    frame = pl.from_arrow(lines)
    assert isinstance(frame, pl.DataFrame)
    df = frame.with_row_index("_idx")
    raw = pl.col("raw")
    # Only lines not starting with '{' need the (copying) strip to be classified.
    brace = raw.str.starts_with("{")
    stripped = pl.when(~brace).then(raw).str.strip_chars_start().str.starts_with("{")
    is_json = df.select(brace | stripped.fill_null(False)).to_series()
    if is_json.all():
        df = df.hstack(_json_fields(df["raw"]))
    else:
        parts = pl.concat(
            [_json_part(df.filter(is_json)), _structured_part(df.filter(~is_json))],
            how="diagonal_relaxed",
        )
        df = df.join(parts, on="_idx", how="left").sort("_idx")
    df = without_blanks(df.with_columns(_a("reqPath").alias("path")), _TEXT_COLUMNS, _BLANKS)
    df = df.with_columns(_numbers()).with_columns(_columns())
    df = per_distinct(df, _PER_VALUE_COLUMNS, _per_value_columns())
    df = df.with_columns(percent_decode(df["user_agent"]))
    df = first_failures(df, _checks())
    kind = EventTimeKind.REQUEST_START.value
    return finish(df, cdn=CDN, source_format=FORMAT, event_time_kind=kind)


_EPOCH = re.compile(r"^\d{9,10}(\.\d+)?$")


def _looks_ds2(line: str) -> bool:
    text = line.strip()
    if text.startswith("{"):
        return '"reqTimeSec"' in text and ('"cacheStatus"' in text or '"reqHost"' in text)
    tokens = text.replace("\t", " ").split(" ")
    if len(tokens) != len(STRUCTURED_FIELDS):
        return False
    at = {name: tokens[i] for i, name in enumerate(STRUCTURED_FIELDS)}
    return (
        at["version"].isdigit()
        and bool(_EPOCH.match(at["reqTimeSec"]))
        and at["statusCode"].isdigit()
        and at["reqMethod"].isalpha()
        and at["cacheStatus"] in {"0", "1", "-"}
    )


def sniff(sample: list[str], header: str | None) -> bool:
    """True when most sample lines are DS2 JSON objects or SDK-ordered structured lines."""
    if header is not None or not sample:
        return False
    hits = sum(_looks_ds2(line) for line in sample)
    return hits > 0 and hits * 2 >= len(sample)
