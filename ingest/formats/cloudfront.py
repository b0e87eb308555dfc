"""CloudFront standard (legacy W3C) access logs, section 1 of the format notes.

Decisions on the ambiguous parts of the format:

- Field order: the `#Fields:` directive in force for each line (framing's `header`
  column), split on any whitespace (one public file uses TABs there). Headers may change
  mid-file; lines are parsed by their own header. `#Version` is not checked: names, not
  the version, say what a column holds.
- Lines before any `#Fields:`: parsed in the 33-field default order only when they have
  24, 26 or 33 fields (the 2017, 2019-06 and 2019-12 layouts), else `missing_header`.
- Field count: trailing empty columns are ignored (the AWS example ends one line with a
  TAB). Extra non-empty columns are ignored too: AWS appends fields at the end, so the
  declared ones stay aligned. A line may lack trailing fields after the 26th (elastic's
  test log has 31 of 33; the 2019-12 additions become null), but a line shorter than
  that, or than its header when the header has fewer than 26 fields, is
  `bad_field_count`. A header without date, time, cs-method, cs-uri-stem or sc-status
  makes its lines `missing_field`.
- Percent-encoding: CloudFront encodes its log fields, `%` included, on top of the wire
  encoding, so `+` sent as `%2B` is logged `%252B`; older files log it `%2B`. Path,
  user agent and content type are therefore decoded twice: the first pass undoes the log
  encoding, the second the wire encoding. Only `%25` can yield a new `%`, so the second
  pass changes nothing in singly encoded values, and `%252B`, `%2B` and `+` all give
  `+`. The query is kept as logged.
- Cache status: `x-edge-response-result-type`, else `x-edge-result-type` (AWS's own
  report ignores late client aborts). Detailed `OriginShieldHit` is a HIT in the parent
  tier; other hits keep tier `unknown` because regional-edge-cache hits are logged as
  plain `Hit` (A2). `Error` with an origin subtype means origin_request `failed`, with an
  edge/viewer subtype `none`, otherwise `unknown`; `LimitExceeded`/`CapacityExceeded`
  never reach the origin. `cache_status_raw` joins the result, response and detailed
  types present, in that order, with `/`. Files without any result type (the 12-field
  2011 layout) give UNKNOWN.
- Incomplete: status 000, or `x-edge-result-type` `Error` while the response type is not
  `Error` or the status is 2xx (AWS counts `Error` + 200; 2xx also covers aborted 206
  range responses of video segments).
"""

from __future__ import annotations

import re

import polars as pl

from ingest.normalize import (
    fill_details,
    finish,
    first_reason,
    map_distinct,
    nullif_dash,
    percent_decode,
    to_float,
    to_int,
)
from ingest.records import ParseResult, RawLines, Reason
from ingest.schema import (
    CLOUDFRONT_EDGE_ERRORS,
    CLOUDFRONT_ORIGIN_ERRORS,
    CLOUDFRONT_RESULT_TYPES,
    CacheStatus,
    CacheTier,
    EventTimeKind,
    OriginRequest,
)
from ingest.tsv import FIELD_COUNT, field_count, strip_trailing_tabs, tab_fields

FORMAT = "cloudfront_standard"
CDN = "cloudfront"
DESCRIPTION = "Amazon CloudFront standard (legacy) access logs: W3C, TAB-separated, #Fields header"

# The 33-field default order (AWS doc, since 2019-12), as the directive lists it.
# fmt: off
DEFAULT_FIELDS: tuple[str, ...] = (
    "date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)",
    "cs-uri-stem", "sc-status", "cs(Referer)", "cs(User-Agent)", "cs-uri-query", "cs(Cookie)",
    "x-edge-result-type", "x-edge-request-id", "x-host-header", "cs-protocol", "cs-bytes",
    "time-taken", "x-forwarded-for", "ssl-protocol", "ssl-cipher",
    "x-edge-response-result-type", "cs-protocol-version", "fle-status", "fle-encrypted-fields",
    "c-port", "time-to-first-byte", "x-edge-detailed-result-type", "sc-content-type",
    "sc-content-len", "sc-range-start", "sc-range-end",
)
# fmt: on
HEADERLESS_COUNTS = (24, 26, 33)
REQUIRED_FIELDS = ("date", "time", "cs-method", "cs-uri-stem", "sc-status")
# Fields after the 26th (the 2019-12 additions) may be missing from a line.
MIN_FIELDS = 26
# fmt: off
_USED_FIELDS = (
    "date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)",
    "cs-uri-stem", "sc-status", "cs(User-Agent)", "cs-uri-query", "x-edge-result-type",
    "x-edge-request-id", "x-host-header", "cs-bytes", "time-taken",
    "x-edge-response-result-type", "cs-protocol-version", "time-to-first-byte",
    "x-edge-detailed-result-type", "sc-content-type",
)
# fmt: on
_RESULT_TYPES = {k: v.value for k, v in CLOUDFRONT_RESULT_TYPES.items()}
_EDGE_ONLY_ERRORS = ["LimitExceeded", "CapacityExceeded"]
EDGE_LOCATION_RE = r"^[A-Z]{3}\d{1,3}(?:-[A-Z]\d{1,2})?$"
_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
_TIME_RE = r"^\d{2}:\d{2}:\d{2}$"


def header_fields(header: str) -> list[str]:
    """Field names of a `#Fields:` directive (with or without its prefix)."""
    body = re.sub(r"^#Fields:", "", header.strip())
    # The AWS docs' RTMP example carries zero-width spaces inside names.
    return [name.replace("\u200b", "") for name in body.split()]


def decode_twice(series: pl.Series) -> pl.Series:
    """Undo CloudFront's log-level percent-encoding, then the wire encoding."""
    return percent_decode(series, times=2)


def cache_columns(resp: pl.Expr, res: pl.Expr, det: pl.Expr, status: pl.Expr) -> list[pl.Expr]:
    """Cache status, raw/detail, tier, origin-request override and `incomplete` (module rules).

    Args:
        resp, res, det: x-edge-response-result-type, x-edge-result-type and
            x-edge-detailed-result-type as logged (null when the field is absent).
        status: the viewer status as an integer expression.
    """
    raw = pl.concat_str([res, resp, det], separator="/", ignore_nulls=True)
    resp, res, det = nullif_dash(resp), nullif_dash(res), nullif_dash(det)
    primary = pl.coalesce(resp, res)
    shield = (det == "OriginShieldHit").fill_null(False)
    is_error = (primary == "Error").fill_null(False)
    origin = (
        pl.when(is_error & det.is_in(list(CLOUDFRONT_ORIGIN_ERRORS)))
        .then(pl.lit(OriginRequest.FAILED.value))
        .when(is_error & det.is_in(list(CLOUDFRONT_EDGE_ERRORS)))
        .then(pl.lit(OriginRequest.NONE.value))
        .when(primary.is_in(_EDGE_ONLY_ERRORS))
        .then(pl.lit(OriginRequest.NONE.value))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    late_error = (resp.is_not_null() & (resp != "Error")) | status.is_between(200, 299)
    aborted = (res == "Error") & late_error
    return [
        pl.when(shield)
        .then(pl.lit(CacheStatus.HIT.value))
        .otherwise(
            primary.replace_strict(
                _RESULT_TYPES, default=CacheStatus.UNKNOWN.value, return_dtype=pl.String
            )
        )
        .alias("cache_status"),
        pl.when(raw == "").then(None).otherwise(raw).alias("cache_status_raw"),
        pl.when(det.is_not_null() & (det != pl.coalesce(res, resp).fill_null("")))
        .then(det)
        .alias("cache_status_detail"),
        pl.when(shield).then(pl.lit(CacheTier.PARENT.value)).alias("cache_tier"),
        origin.alias("origin_request"),
        ((status == 0) | aborted).fill_null(False).alias("incomplete"),
    ]


def bad_number(*names: str) -> pl.Expr:
    """True when one of the numeric fields holds something other than '-' or a number >= 0."""
    checks = [
        nullif_dash(pl.col(n)).is_not_null() & ~(to_float(pl.col(n)) >= 0).fill_null(False)
        for n in names
    ]
    return pl.any_horizontal(checks)


def status_code(expr: pl.Expr) -> pl.Expr:
    """'000'..'999' as an integer ('000' is 0: the viewer left before a response), else null."""
    return pl.when(expr.str.contains(r"^\d{1,3}$")).then(expr.cast(pl.Int64, strict=False))


def first_value(*names: str) -> pl.Expr:
    """The first of the named fields that holds a value ('-' counts as none)."""
    return pl.coalesce([nullif_dash(pl.col(n)) for n in names])


def shared_columns() -> list[pl.Expr]:
    """Canonical columns whose CloudFront field names are the same in standard and real-time logs."""
    return [
        nullif_dash(pl.col("x-edge-location")).alias("pop"),
        nullif_dash(pl.col("cs-method")).alias("method"),
        *cache_columns(
            pl.col("x-edge-response-result-type"),
            pl.col("x-edge-result-type"),
            pl.col("x-edge-detailed-result-type"),
            pl.col("status"),
        ),
        to_int(pl.col("sc-bytes")).alias("bytes_sent"),
        to_int(pl.col("cs-bytes")).alias("request_bytes"),
        (to_float(pl.col("time-taken")) * 1000).round(3).alias("time_taken_ms"),
        (to_float(pl.col("time-to-first-byte")) * 1000).round(3).alias("ttfb_ms"),
        nullif_dash(pl.col("sc-content-type")).alias("content_type"),
        nullif_dash(pl.col("c-ip")).alias("client_key"),
        nullif_dash(pl.col("cs-protocol-version")).alias("protocol"),
        nullif_dash(pl.col("x-edge-request-id")).alias("request_id"),
    ]


def decode_log_encoding(df: pl.DataFrame) -> pl.DataFrame:
    """Path, user agent and content type with CloudFront's log encoding and the wire encoding undone."""
    return df.with_columns(
        decode_twice(df["path"]).alias("path"),
        decode_twice(df["user_agent"]).alias("user_agent"),
        decode_twice(df["content_type"]).alias("content_type"),
    )


def _fields_of(group: pl.DataFrame, header: str | None) -> pl.DataFrame:
    """One column per used field (null when the header lacks it), `_reason`, and the
    declared field count `_declared` (for the detail of a field-count reject)."""
    fields: list[str] = list(DEFAULT_FIELDS) if header is None else header_fields(header)
    positions = {name: fields.index(name) if name in fields else None for name in _USED_FIELDS}
    text = strip_trailing_tabs(group["raw"])
    if header is None:
        values = tab_fields(text, positions, count=True)
        bad, reason = ~pl.col(FIELD_COUNT).is_in(list(HEADERLESS_COUNTS)), Reason.MISSING_HEADER
    elif missing := [name for name in REQUIRED_FIELDS if name not in fields]:
        values = tab_fields(text, positions)
        bad, reason = pl.lit(True), Reason.MISSING_FIELD
        group = group.with_columns(pl.lit(f"#Fields lacks {', '.join(missing)}").alias("_detail"))
    else:
        last_required = max(fields.index(r) + 1 for r in REQUIRED_FIELDS)
        need = max(min(len(fields), MIN_FIELDS), last_required)
        # A line has fewer than `need` fields exactly when field need-1 is null.
        values = tab_fields(text, {**positions, "_last_needed": need - 1})
        bad, reason = pl.col("_last_needed").is_null(), Reason.BAD_FIELD_COUNT
    return pl.concat([group.drop("header"), values], how="horizontal").with_columns(
        pl.when(bad).then(pl.lit(reason.value)).alias("_reason"),
        pl.lit(len(fields)).alias("_declared"),
    )


# Detail of each reason set in this module, computed for rejected lines only.
_COUNT = field_count(pl.col("raw").str.strip_chars_end("\t"))
_DETAILS = {
    Reason.MISSING_HEADER.value: pl.format("no #Fields directive and {} fields", _COUNT),
    Reason.BAD_FIELD_COUNT.value: pl.format(
        "{} fields, #Fields declares {}", _COUNT, pl.col("_declared")
    ),
    Reason.BAD_TIMESTAMP.value: pl.format(
        "unparsable date/time '{} {}'", pl.col("date").str.head(16), pl.col("time").str.head(16)
    ),
    Reason.BAD_NUMBER.value: pl.lit("non-numeric byte count or duration"),
}


def parse(lines: RawLines) -> ParseResult:
    """Canonical rows and rejects for CloudFront standard log lines.

    Returns:
        ParseResult holding every input line once, rows in input order.
    """
    if lines.num_rows == 0:
        return ParseResult.empty()
    df = pl.from_arrow(lines)
    assert isinstance(df, pl.DataFrame)
    if "_detail" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.String).alias("_detail"))
    headers = lines.column("header").unique()
    if len(headers) == 1:  # the usual case: one #Fields directive for the whole batch
        df = _fields_of(df, headers[0].as_py())
    else:
        groups = df.with_row_index("_idx").partition_by("header", as_dict=True, maintain_order=True)
        parts = [_fields_of(g, key[0]) for key, g in groups.items()]
        df = pl.concat(parts, how="diagonal").sort("_idx")

    date, time = pl.col("date"), pl.col("time")
    stamp = (
        pl.concat_str([date, time], separator=" ")
        .str.strptime(pl.Datetime("ms"), "%Y-%m-%d %H:%M:%S", strict=False)
        .dt.replace_time_zone("UTC")
    )
    # Dates, times and statuses repeat: their checks run on distinct values.
    well_formed = map_distinct(df["date"], lambda s: s.str.contains(_DATE_RE)) & map_distinct(
        df["time"], lambda s: s.str.contains(_TIME_RE)
    )
    status = map_distinct(
        df["sc-status"], lambda s: s.to_frame("v").select(status_code(pl.col("v"))).to_series()
    )
    df = df.with_columns(
        pl.when(well_formed).then(stamp).alias("event_time"), status.alias("status")
    )
    own = first_reason(
        (pl.col("event_time").is_null(), Reason.BAD_TIMESTAMP),
        (bad_number("sc-bytes", "cs-bytes", "time-taken", "time-to-first-byte"), Reason.BAD_NUMBER),
    )
    df = df.with_columns(
        pl.coalesce(pl.col("_reason"), own).alias("_reason"),
        first_value("x-host-header", "cs(Host)").alias("host"),
        nullif_dash(pl.col("cs-uri-stem")).alias("path"),
        pl.col("cs-uri-query").alias("query"),
        nullif_dash(pl.col("cs(User-Agent)")).alias("user_agent"),
        *shared_columns(),
    )
    df = decode_log_encoding(fill_details(df, _DETAILS))
    return finish(
        df,
        cdn=CDN,
        source_format=FORMAT,
        event_time_kind=EventTimeKind.RESPONSE_END.value,
        decode_path=False,
    )


def _headerless_match(line: str) -> bool:
    parts = line.rstrip("\t").split("\t")
    return (
        len(parts) in HEADERLESS_COUNTS
        and re.match(_DATE_RE, parts[0]) is not None
        and re.match(_TIME_RE, parts[1]) is not None
        and re.match(EDGE_LOCATION_RE, parts[2]) is not None
    )


def sniff(sample: list[str], header: str | None) -> bool:
    """True for a W3C header naming CloudFront fields (with `date`, which real-time logs lack),
    or, without a header, when most lines start with date TAB time TAB edge-location."""
    if header is not None:
        names = set(header_fields(header))
        return "date" in names and bool(names & {"x-edge-location", "cs-uri-stem"})
    lines = [s for s in sample if s.strip()]
    hits = sum(_headerless_match(s) for s in lines)
    return bool(lines) and hits * 2 > len(lines)
