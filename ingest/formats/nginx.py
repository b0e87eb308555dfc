"""nginx and Varnish (varnishncsa) access logs: formats "nginx" and "varnish".

Neither server has a fixed log format with the cache status (sections 9 and 10 of the
format notes). `docs/nginx-varnish-log-format.md` defines the formats parsed here, the
shapes also accepted, the field and cache-status mappings, and these decisions:

- Text lines are read with one regex per batch; a line of any other shape (plain
  combined, truncated, unknown extra fields) is `bad_field_count`. JSON lines of both
  servers share one key set (nginx variable names); a batch may mix text and JSON.
- Time: nginx `$msec`/`$time_iso8601`/`$time_local` (response end), Varnish `%t`
  (request start), offsets applied. `-` or TLS bytes as request line: `bad_method`.
- nginx `-`: PASS if `$upstream_addr` is an address, SYNTHETIC if `-`/empty, UNKNOWN
  if not logged; UPDATING: origin_request `none`; STALE keeps HIT_STALE's `failed` (A6).
  Varnish `synth`/`error` with status >= 500: ERROR; `hitmiss`: MISS, detail `hitmiss`.
- Statuses served from cache get tier `edge`; pop is nginx `$hostname`, null for Varnish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from ingest.json_lines import read_json_lines
from ingest.normalize import (
    finish,
    host_of_url,
    nullif_dash,
    split_url,
    to_float,
    to_int,
    with_first_failure,
)
from ingest.records import ParseResult, RawLines, Reason
from ingest.schema import NGINX_CACHE_STATUS, VARNISH_HANDLING, CacheStatus, EventTimeKind

FORMAT = "nginx"
CDN = "nginx"
DESCRIPTION = "nginx access log with $upstream_cache_status (cdn_offload, JSON, combined+)"
VARNISH_FORMAT = "varnish"
VARNISH_CDN = "varnish"
VARNISH_DESCRIPTION = "varnishncsa log with %{Varnish:handling}x (-F cdn_offload, -j JSON, NCSA+)"


def _q(name: str) -> str:
    """A double-quoted field whose quotes and backslashes are backslash-escaped."""
    return rf'"(?P<{name}>[^"\\]*(?:\\.[^"\\]*)*)"'


_NCSA = (
    rf"^(?P<client>\S+) +\S+ +\S+ +\[(?P<time_clf>[^\]]*)\] +{_q('request')}"
    rf" +(?P<status>\S+) +(?P<body_bytes>\S+) +{_q('referer')} +{_q('user_agent')}"
)
NGINX_RE = (
    _NCSA + r' +"?(?P<cache>[A-Za-z_]+|-)"?(?: +(?P<request_time>[0-9.]+|-)(?:'
    rf" +{_q('upstream_addr')} +{_q('upstream_response_time')} +{_q('host')}"
    rf" +(?P<bytes_sent>\S+) +{_q('content_type')} +{_q('cache_control')}"
    r" +(?P<hostname>\S+) +(?P<msec>\S+) +(?P<request_bytes>\S+) +(?P<request_id>\S+))?)? *$"
)
VARNISH_RE = (
    _NCSA + rf" +(?P<cache>[A-Za-z_]+|-)(?: +{_q('host')} +(?P<bytes_sent>\S+)"
    rf" +(?P<duration_us>\S+) +(?P<ttfb_s>\S+) +(?P<request_bytes>\S+)"
    rf" +{_q('content_type')} +{_q('cache_control')} +(?P<request_id>\S+))? *$"
)
_REQUEST_RE = r"^(?P<method>\S+) (?P<uri>.+?)(?: (?P<protocol>HTTP/[0-9.]+))?$"
_URI_RE = r"^(?:/|[A-Za-z][A-Za-z0-9+.-]*://|\*$)"
_METHOD_RE = r"^[A-Za-z][A-Za-z_-]{0,19}$"
_NUMERIC = ("body_bytes", "bytes_sent", "request_bytes", "request_time", "duration_us", "ttfb_s")
_ESCAPED = ("request", "user_agent", "host", "content_type", "cache_control")
# Internal column -> JSON key, shared by both servers' JSON variants.
_JSON_KEYS = {
    "client": "remote_addr",
    "msec": "msec",
    "time_iso": "time_iso8601",
    "time_clf": "time_local",
    "request": "request",
    "method": "request_method",
    "uri": "request_uri",
    "protocol": "server_protocol",
    "status": "status",
    "body_bytes": "body_bytes_sent",
    "bytes_sent": "bytes_sent",
    "request_bytes": "request_length",
    "request_time": "request_time",
    "duration_us": "duration_usec",
    "ttfb_s": "time_firstbyte",
    "user_agent": "http_user_agent",
    "host": "host",
    "hostname": "hostname",
    "content_type": "sent_http_content_type",
    "cache_control": "sent_http_cache_control",
    "request_id": "request_id",
    "upstream_addr": "upstream_addr",
}
_COLUMNS = (*_JSON_KEYS, "cache")
_FROM_CACHE = [
    CacheStatus.HIT.value,
    CacheStatus.HIT_STALE.value,
    CacheStatus.HIT_UPDATING.value,
    CacheStatus.REVALIDATED.value,
]
_UNKNOWN = pl.lit(CacheStatus.UNKNOWN.value)


def _nginx_cache(raw: pl.Expr, mapped: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(cache_status, detail, origin_request override) for `$upstream_cache_status`."""
    upstream = pl.col("upstream_addr")
    no_lookup = (
        pl.when(upstream.is_null())
        .then(_UNKNOWN)
        .when(nullif_dash(upstream).is_null())
        .then(pl.lit(CacheStatus.SYNTHETIC.value))
        .otherwise(pl.lit(CacheStatus.PASS.value))
    )
    return (
        pl.when(raw.is_null()).then(no_lookup).otherwise(mapped),
        pl.when(raw == "EXPIRED").then(pl.lit("EXPIRED")),
        pl.when(raw == "UPDATING").then(pl.lit("none")),
    )


def _varnish_cache(raw: pl.Expr, mapped: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(cache_status, detail, origin_request override) for `%{Varnish:handling}x`."""
    synth_error = raw.is_in(["synth", "error"]) & (to_int(pl.col("status")) >= 500)
    return (
        pl.when(raw.is_null())
        .then(_UNKNOWN)
        .when(synth_error)
        .then(pl.lit(CacheStatus.ERROR.value))
        .otherwise(mapped),
        pl.when(raw == "hitmiss").then(pl.lit("hitmiss")),
        pl.lit(None, dtype=pl.String),
    )


@dataclass(frozen=True)
class _Layout:
    name: str
    cdn: str
    regex: str
    cache_key: str  # JSON key of the cache field
    known: dict[str, str]  # vendor cache value -> canonical status
    cache: Callable[[pl.Expr, pl.Expr], tuple[pl.Expr, pl.Expr, pl.Expr]]
    escapes: tuple[tuple[str, str], ...]  # text escapes to undo, in this order
    time_kind: str


_NGINX = _Layout(
    FORMAT,
    CDN,
    NGINX_RE,
    "upstream_cache_status",
    {k: v.value for k, v in NGINX_CACHE_STATUS.items()},
    _nginx_cache,
    (("\\x22", '"'), ("\\x5C", "\\")),
    EventTimeKind.RESPONSE_END.value,
)
_VARNISH = _Layout(
    VARNISH_FORMAT,
    VARNISH_CDN,
    VARNISH_RE,
    "varnish_handling",
    {k: v.value for k, v in VARNISH_HANDLING.items()},
    _varnish_cache,
    (('\\"', '"'), ("\\\\", "\\")),
    EventTimeKind.REQUEST_START.value,
)


def _text_fields(df: pl.DataFrame, layout: _Layout) -> pl.DataFrame:
    """Internal string columns of text lines; lines the regex rejects are `bad_field_count`."""
    df = df.with_columns(pl.col("raw").str.extract_groups(layout.regex).alias("_g")).unnest("_g")
    unescaped = []
    for col in _ESCAPED:
        expr = pl.col(col)
        for escaped, plain in layout.escapes:
            expr = expr.str.replace_all(escaped, plain, literal=True)
        unescaped.append(expr)
    bad = pl.col("client").is_null()
    return df.with_columns(
        *unescaped,
        pl.when(bad).then(pl.lit(Reason.BAD_FIELD_COUNT.value)).alias("_reason"),
        pl.when(bad).then(pl.lit(f"not a {layout.name} cache-status line")).alias("_detail"),
    )


def _json_fields(df: pl.DataFrame, layout: _Layout) -> pl.DataFrame:
    """Internal string columns of JSON lines; bad JSON keeps the reader's reason."""
    keys = {**_JSON_KEYS, "cache": layout.cache_key}
    # A bare number after a key (whose closing quote is unescaped) gets quoted.
    bare = r'([^\\]"\s*:\s*)(-?[0-9][0-9.eE+-]*)(\s*[,}])'
    text = df["raw"].str.replace_all(bare, '$1"$2"$3')
    schema = pa.schema([(key, pa.string()) for key in keys.values()])
    got = read_json_lines(text.to_arrow().cast(pa.string()), schema)
    good = pl.from_arrow(got.table)
    assert isinstance(good, pl.DataFrame)
    no_cache = pl.col("cache").is_null()
    good = good.rename({v: k for k, v in keys.items()}).with_columns(
        pl.Series("_i", got.index, dtype=pl.Int64),
        pl.when(no_cache).then(pl.lit(Reason.MISSING_FIELD.value)).alias("_reason"),
        pl.when(no_cache).then(pl.lit(f"no {layout.cache_key} key")).alias("_detail"),
    )
    bad = pl.DataFrame(
        {"_i": got.bad_index, "_reason": got.bad_reason, "_detail": got.bad_detail},
        schema={"_i": pl.Int64, "_reason": pl.String, "_detail": pl.String},
    )
    fields = pl.concat([good, bad], how="diagonal").sort("_i").drop("_i")
    return pl.concat([df, fields], how="horizontal")


def _event_time() -> pl.Expr:
    utc = pl.Datetime("ms", "UTC")
    msec = to_float(pl.col("msec"))
    epoch_ms = (msec * 1000).round(0).cast(pl.Int64, strict=False)
    from_msec = pl.from_epoch(epoch_ms, time_unit="ms").dt.replace_time_zone("UTC")
    iso = pl.col("time_iso").str.strptime(utc, "%Y-%m-%dT%H:%M:%S%z", strict=False)
    clf = pl.col("time_clf").str.strip_chars("[]")
    clf = clf.str.strptime(utc, "%d/%b/%Y:%H:%M:%S %z", strict=False)
    return pl.coalesce(pl.when((msec > 0) & (msec < 1e11)).then(from_msec), iso, clf)


def _validate(df: pl.DataFrame) -> pl.DataFrame:
    """Adds method/uri/protocol/event_time and the module's reject reasons."""
    req = nullif_dash(pl.col("request")).str.extract_groups(_REQUEST_RE)
    df = df.with_columns(
        *[
            pl.coalesce(nullif_dash(pl.col(f)), req.struct.field(f)).alias(f)
            for f in ("method", "uri", "protocol")
        ],
        _event_time().alias("event_time"),
    )
    status, method, uri = pl.col("status"), pl.col("method"), pl.col("uri")
    times = [pl.col(c).is_not_null() for c in ("msec", "time_iso", "time_clf")]
    bad_number = pl.any_horizontal(
        nullif_dash(pl.col(c)).is_not_null() & ~(to_float(pl.col(c)) >= 0).fill_null(False)
        for c in _NUMERIC
    )
    df, reason, detail = with_first_failure(
        df,
        (~pl.any_horizontal(times), Reason.MISSING_FIELD, "no time field"),
        (status.is_null(), Reason.MISSING_FIELD, "no status"),
        (pl.col("request").is_null() & method.is_null(), Reason.MISSING_FIELD, "no request"),
        (pl.col("event_time").is_null(), Reason.BAD_TIMESTAMP, "unparsable time"),
        (~status.str.contains(r"^\d{1,3}$"), Reason.BAD_STATUS, "status is not a number"),
        (~method.str.contains(_METHOD_RE).fill_null(False), Reason.BAD_METHOD, "bad request line"),
        (~uri.str.contains(_URI_RE).fill_null(False), Reason.BAD_PATH, "URI is not a path or URL"),
        (bad_number, Reason.BAD_NUMBER, "non-numeric byte count or duration"),
    )
    fresh = pl.col("_reason").is_null()
    return df.with_columns(
        pl.when(fresh).then(reason).otherwise(pl.col("_reason")).alias("_reason"),
        pl.when(fresh).then(detail).otherwise(pl.col("_detail")).alias("_detail"),
    )


def _canonical(df: pl.DataFrame, layout: _Layout) -> pl.DataFrame:
    """Canonical columns from the internal string columns, ready for `finish`."""
    df = df.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c in _COLUMNS if c not in df.columns
    )
    df = _validate(df)
    uri, cache_control = pl.col("uri"), pl.col("cache_control")
    path, query = split_url(uri)
    raw = nullif_dash(pl.col("cache"))
    mapped = raw.replace_strict(layout.known, default=_UNKNOWN, return_dtype=pl.String)
    cache, detail, origin = layout.cache(raw, mapped)
    # The shared-cache TTL the response advertises.
    max_age = pl.coalesce(
        cache_control.str.extract(r"(?i)s-maxage=(\d+)", 1),
        cache_control.str.extract(r"(?i)(?:^|[\s,])max-age=(\d+)", 1),
    )
    millis = pl.coalesce(
        to_float(pl.col("request_time")) * 1000, to_float(pl.col("duration_us")) / 1000
    )
    body = pl.col("body_bytes")
    df = df.with_columns(
        # The URL's host only when no Host field is logged: varnishncsa puts `localhost`
        # in `%r` when the header is missing.
        pl.when(pl.col("host").is_null())
        .then(host_of_url(uri))
        .otherwise(nullif_dash(pl.col("host")))
        .alias("host"),
        path.alias("path"),
        query.alias("query"),
        to_int(pl.col("status")).alias("status"),
        cache.alias("cache_status"),
        pl.when(pl.col("cache") != "").then(pl.col("cache")).alias("cache_status_raw"),
        detail.alias("cache_status_detail"),
        origin.alias("origin_request"),
        # CLF `%b` writes '-' for an empty body.
        pl.when(body == "-").then(0).otherwise(to_int(body)).alias("body_bytes"),
        to_int(pl.col("bytes_sent")).alias("bytes_sent"),
        to_int(pl.col("request_bytes")).alias("request_bytes"),
        millis.round(3).alias("time_taken_ms"),
        (to_float(pl.col("ttfb_s")) * 1000).round(3).alias("ttfb_ms"),
        nullif_dash(pl.col("content_type")).alias("content_type"),
        max_age.cast(pl.Int64, strict=False).alias("max_age_s"),
        nullif_dash(pl.col("client")).alias("client_key"),
        nullif_dash(pl.col("user_agent")).alias("user_agent"),
        nullif_dash(pl.col("request_id")).alias("request_id"),
        nullif_dash(pl.col("hostname")).alias("pop"),
    )
    from_cache = pl.col("cache_status").is_in(_FROM_CACHE)
    return df.with_columns(pl.when(from_cache).then(pl.lit("edge")).alias("cache_tier"))


def _parse(lines: RawLines, layout: _Layout) -> ParseResult:
    if lines.num_rows == 0:
        return ParseResult.empty()
    df = pl.from_arrow(lines)
    assert isinstance(df, pl.DataFrame)
    df = df.with_row_index("_idx").drop("header")
    is_json = df["raw"].str.strip_chars_start().str.starts_with("{")
    parts = [
        fields(part, layout)
        for fields, part in (
            (_text_fields, df.filter(~is_json)),
            (_json_fields, df.filter(is_json)),
        )
        if part.height
    ]
    merged = pl.concat(parts, how="diagonal").sort("_idx").drop("_idx")
    return finish(
        _canonical(merged, layout),
        cdn=layout.cdn,
        source_format=layout.name,
        event_time_kind=layout.time_kind,
    )


def parse(lines: RawLines) -> ParseResult:
    """Canonical rows and rejects for nginx lines (cdn_offload, JSON, combined + cache status).

    Returns:
        ParseResult holding every input line once, rows in input order.
    """
    return _parse(lines, _NGINX)


def parse_varnish(lines: RawLines) -> ParseResult:
    """Canonical rows and rejects for varnishncsa lines (cdn_offload, -j JSON, NCSA + handling).

    Returns:
        ParseResult holding every input line once, rows in input order.
    """
    return _parse(lines, _VARNISH)


def _sniff(sample: list[str], header: str | None, layout: _Layout) -> bool:
    lines = [s for s in sample if s.strip()]
    if header is not None or not lines:
        return False
    text = pl.Series(lines, dtype=pl.String)
    json_cache = text.str.extract(rf'^\s*\{{.*"{layout.cache_key}"\s*:\s*"([^"]*)"', 1)
    cache = json_cache.fill_null(text.str.extract_groups(layout.regex).struct.field("cache"))
    known = cache.is_in(list(layout.known)).fill_null(False)
    return bool(cache.is_not_null().sum() * 2 > len(lines) and known.any())


def sniff(sample: list[str], header: str | None) -> bool:
    """True when most lines are nginx cdn_offload or combined + cache-status lines (text or
    JSON) and at least one holds a documented `$upstream_cache_status` value."""
    return _sniff(sample, header, _NGINX)


def sniff_varnish(sample: list[str], header: str | None) -> bool:
    """True when most lines are varnishncsa cdn_offload or NCSA + handling lines (text or
    JSON) and at least one holds a documented `%{Varnish:handling}x` value."""
    return _sniff(sample, header, _VARNISH)


PARSERS = {FORMAT: parse, VARNISH_FORMAT: parse_varnish}
SNIFFERS = {FORMAT: sniff, VARNISH_FORMAT: sniff_varnish}
CDNS = {FORMAT: CDN, VARNISH_FORMAT: VARNISH_CDN}
DESCRIPTIONS = {FORMAT: DESCRIPTION, VARNISH_FORMAT: VARNISH_DESCRIPTION}
