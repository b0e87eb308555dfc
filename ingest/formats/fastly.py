"""Fastly real-time log streaming, one JSON object per line (format `fastly_json`).

Fastly has no fixed log schema, so this module reads, with one schema (the union of
their keys), three JSON shapes:

- the cdn-offload recommended format: exact `format` string, VCL snippet and field
  table in `docs/fastly-log-format.md` (raw `fastly_info_state`, `visits_this_service`,
  `pop` = server.datacenter, `%{begin:msec}t`, byte counters, timings, ...);
- Fastly's default JSON format (`timestamp`, `request`, `host`, `url`, regex-collapsed
  `cache_status`, ...). It logs no `resp.status`, which every canonical row needs, so
  its lines are quarantined as `missing_field` until `"status"` is added;
- crates.io's static.crates.io formats (`date_time`, `ip`, `method`, `status`, absolute
  `url`, `bytes`, `version`; newer: `edge_location`, `host`, `content_type`, `http{}`).
  They log no cache state: UNKNOWN.

Values may be strings or bare JSON numbers/booleans; `-`, empty and Fastly's `(null)`
(an unset VCL string) mean no value. An optional `classic` syslog prefix
`<134>2016-07-04T22:37:26Z cache-sjc3128 name[pid]: ` is stripped first.

Decisions (ambiguous cases):
- `pop` is the three-letter data-centre code: `pop`, else `edge_location`, else the
  code in the cache node (`server`, or the prefix: `cache-fra-etou8220` -> FRA).
- Cache state: known suffixes (schema.FASTLY_SUFFIXES) are stripped from the right;
  any `-REFRESH` makes REVALIDATED, `-CLUSTER`/`-WAIT` go to `cache_status_detail`,
  the base is looked up in schema.FASTLY_STATES; anything else, or no state, is
  UNKNOWN (raw value kept).
- `visits_this_service` > 0 marks a shield line: not a viewer request, and its hits
  are parent-tier hits; 0 gives edge hits; absent, the tier is unknown. Joining edge
  and shield lines on `request_id` (origin contact of an edge MISS) is a later stage.
- HIT-STALE: `origin_request` unknown (failed fetch, or `deliver_stale` in VCL).
- crates.io `bytes` is read as body bytes; its `version` is not checked.
- `event_time` is the request start: epoch s/ms/µs/ns (by magnitude), ISO 8601 with or
  without zone (UTC assumed) or CLF; a time outside 2000-2099 is `bad_timestamp`.
- A `url` that is neither a path nor an absolute URL is rejected as `bad_path`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import polars as pl
import pyarrow as pa

from ingest.json_scalars import read_aligned
from ingest.normalize import finish, host_of_url, split_url, with_first_failure
from ingest.records import ParseResult, RawLines, Reason
from ingest.schema import FASTLY_STATES, FASTLY_SUFFIXES, CacheStatus, EventTimeKind

FORMAT = "fastly_json"
CDN = "fastly"
DESCRIPTION = (
    "Fastly log streaming, JSON lines (cdn-offload recommended format, Fastly's default "
    "JSON, crates.io style), optional syslog prefix"
)

# `classic` framing: <PRI>TIMESTAMP NODE ENDPOINT[PID]: (group 1 = cache node).
_PREFIX_RE = r"^<\d{1,3}>\S+ (\S+) [^\s\[\]]+(?:\[\d+\])?: "
_KEYS = (
    *("timestamp", "date_time", "time_elapsed", "time_to_first_byte", "request_id"),
    *("pop", "edge_location", "server", "fastly_info_state", "cache_status"),
    *("visits_this_service", "client_ip", "ip", "geo_country_code", "request_user_agent"),
    *("request", "method", "protocol", "host", "url", "status", "content_type", "cache_control"),
    *("resp_bytes_written", "resp_body_bytes_written", "bytes", "req_bytes_read"),
)
_SCHEMA = pa.schema(
    [(k, pa.string()) for k in _KEYS]
    + [("http", pa.struct([("protocol", pa.string()), ("useragent", pa.string())]))]
)
_SUFFIX_RE = "(?:" + "|".join(re.escape(s) for s in FASTLY_SUFFIXES) + ")+$"
_URL_RE = r"^(/|[A-Za-z][A-Za-z0-9+.-]*://)"
# Keys whose value must be a number when present.
_NUMERIC = (
    *("visits_this_service", "time_elapsed", "time_to_first_byte", "req_bytes_read"),
    *("resp_bytes_written", "resp_body_bytes_written", "bytes"),
)
# Timestamps outside this range are unit or typing mistakes, not requests.
PLAUSIBLE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
_STATES = {k: v.value for k, v in FASTLY_STATES.items()}
_SERVED = [CacheStatus.HIT, CacheStatus.HIT_STALE, CacheStatus.REVALIDATED]


def blank(expr: pl.Expr) -> pl.Expr:
    """'-', '' and Fastly's '(null)' (an unset VCL string) mean no value."""
    return pl.when(expr.str.strip_chars().is_in(["-", "", "(null)"])).then(None).otherwise(expr)


def event_time(text: pl.Expr) -> pl.Expr:
    """UTC Datetime("ms") from epoch s/ms/µs/ns (unit by magnitude), ISO 8601 or CLF; else null."""
    t = text.str.strip_chars()
    num = t.cast(pl.Float64, strict=False)
    ms = (
        pl.when(num >= 1e17)
        .then(num / 1e6)
        .when(num >= 1e14)
        .then(num / 1e3)
        .when(num >= 1e11)
        .then(num)
        .otherwise(num * 1e3)
    )
    from_num = ms.round(0).cast(pl.Int64, strict=False).cast(pl.Datetime("ms", "UTC"))
    iso = t.str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T").str.replace(r"Z$", "+00:00")
    iso = pl.when(iso.str.contains(r"[+-]\d\d:?\d\d$")).then(iso).otherwise(iso + "+00:00")
    utc = pl.Datetime("ms", "UTC")
    return (
        pl.when(t.str.contains(r"^\d+(\.\d+)?$"))
        .then(from_num)
        .otherwise(
            pl.coalesce(
                iso.str.strptime(utc, "%Y-%m-%dT%H:%M:%S%.f%z", strict=False),
                t.str.strip_chars("[]").str.strptime(utc, "%d/%b/%Y:%H:%M:%S %z", strict=False),
            )
        )
    )


def http_version(expr: pl.Expr) -> pl.Expr:
    """'HTTP/2' -> 'HTTP/2.0'; values that are not an HTTP version become null."""
    return (
        pl.when(expr.str.contains(r"^HTTP/\d(\.\d)?$"))
        .then(expr.str.replace(r"^HTTP/(\d)$", "HTTP/${1}.0"))
        .otherwise(None)
    )


def _read(df: pl.DataFrame) -> pl.DataFrame:
    """`df` plus a `j_<key>` column per JSON key and the JSON reader's `_reason`/`_detail`."""
    text = df["raw"]
    if text.str.starts_with("<").any():  # `classic` syslog prefix on some lines
        text = text.str.replace(_PREFIX_RE, "")
    # Bare numbers and booleans under our keys read as their text.
    fields = read_aligned(text, _SCHEMA, _KEYS)
    fields = fields.select(
        pl.exclude("http", "_reason", "_detail").name.prefix("j_"),
        pl.col("http").struct.field("protocol").alias("j_http_protocol"),
        pl.col("http").struct.field("useragent").alias("j_http_useragent"),
        "_reason",
        "_detail",
    )
    return df.hstack(fields)


def _j(*keys: str) -> pl.Expr:
    """First of the JSON keys that holds a value."""
    return blank(pl.coalesce([pl.col(f"j_{k}") for k in keys]))


def _int(*keys: str) -> pl.Expr:
    return _j(*keys).cast(pl.Int64, strict=False)


def _cache(df: pl.DataFrame) -> pl.DataFrame:
    """Canonical cache columns from the raw state (or collapsed cache_status) and shield depth."""
    raw = _j("fastly_info_state", "cache_status").str.strip_chars()
    state = raw.str.to_uppercase()
    suffixes = state.str.extract("(" + _SUFFIX_RE + ")", 1)
    base = state.str.replace(_SUFFIX_RE, "")
    refresh = suffixes.str.contains("-REFRESH", literal=True).fill_null(False)
    unknown = CacheStatus.UNKNOWN.value
    status = (
        pl.when(refresh)
        .then(pl.lit(CacheStatus.REVALIDATED.value))
        .otherwise(base.replace_strict(_STATES, default=unknown, return_dtype=pl.String))
    )
    detail = suffixes.str.replace_all("-REFRESH", "", literal=True).str.strip_chars_start("-")
    served = pl.col("cache_status").is_in([s.value for s in _SERVED])
    visits = pl.col("_visits")
    return df.with_columns(
        status.alias("cache_status"),
        raw.alias("cache_status_raw"),
        pl.when(detail != "").then(detail).alias("cache_status_detail"),
        _int("visits_this_service").alias("_visits"),
    ).with_columns(
        pl.when(served & (visits == 0))
        .then(pl.lit("edge"))
        .when(served & (visits > 0))
        .then(pl.lit("parent"))
        .otherwise(pl.lit("unknown"))
        .alias("cache_tier"),
        # Stale served because the fetch failed, or on purpose (deliver_stale): unknown.
        pl.when(pl.col("cache_status") == CacheStatus.HIT_STALE.value)
        .then(pl.lit("unknown"))
        .alias("origin_request"),
        visits.fill_null(0).le(0).alias("is_viewer_request"),
    )


def _checks(url: pl.Expr) -> list[tuple[pl.Expr, Reason, str]]:
    checks = [
        (_j("timestamp", "date_time").is_null(), Reason.MISSING_FIELD, "timestamp"),
        (url.is_null(), Reason.MISSING_FIELD, "url"),
        (_j("method", "request").is_null(), Reason.MISSING_FIELD, "method"),
        (_j("status").is_null(), Reason.MISSING_FIELD, "status (log resp.status)"),
        (pl.col("event_time").is_null(), Reason.BAD_TIMESTAMP, "unreadable timestamp"),
        (~pl.col("event_time").is_between(*PLAUSIBLE), Reason.BAD_TIMESTAMP, "implausible year"),
        (pl.col("status").is_null(), Reason.BAD_STATUS, "status is not an integer"),
        (~url.str.contains(_URL_RE), Reason.BAD_PATH, "url is not a path or URL"),
    ]
    for key in _NUMERIC:
        value = _j(key)
        bad = value.is_not_null() & value.cast(pl.Float64, strict=False).is_null()
        checks.append((bad, Reason.BAD_NUMBER, key))
    return checks


def parse(lines: RawLines) -> ParseResult:
    """Canonical rows and rejects for Fastly JSON lines; together they hold every input line."""
    frame = pl.from_arrow(lines)
    assert isinstance(frame, pl.DataFrame)
    df = _read(frame.with_row_index("_idx"))
    url = _j("url")
    path, query = split_url(url)
    node = pl.coalesce(_j("server"), pl.col("raw").str.extract(_PREFIX_RE, 1))
    node_pop = node.str.extract(r"^cache-([A-Za-z]{3})", 1).str.to_uppercase()
    cache_control = _j("cache_control").str.to_lowercase()
    max_age = pl.coalesce(
        cache_control.str.extract(r"s-maxage=(\d+)", 1),
        cache_control.str.extract(r"max-age=(\d+)", 1),
    )
    df = df.with_columns(
        event_time(_j("timestamp", "date_time")).alias("event_time"),
        pl.coalesce(_j("pop", "edge_location"), node_pop).alias("pop"),
        pl.coalesce(_j("host"), host_of_url(url)).alias("host"),
        _j("method", "request").alias("method"),
        path.alias("path"),
        query.alias("query"),
        _int("status").alias("status"),
        _int("resp_bytes_written").alias("bytes_sent"),
        _int("resp_body_bytes_written", "bytes").alias("body_bytes"),
        _int("req_bytes_read").alias("request_bytes"),
        (_j("time_elapsed").cast(pl.Float64, strict=False) / 1000).round(3).alias("time_taken_ms"),
        (_j("time_to_first_byte").cast(pl.Float64, strict=False) * 1000).round(3).alias("ttfb_ms"),
        _j("content_type").alias("content_type"),
        max_age.cast(pl.Int64, strict=False).alias("max_age_s"),
        _j("geo_country_code").alias("client_country"),
        _j("client_ip", "ip").alias("client_key"),
        _j("request_user_agent", "http_useragent").alias("user_agent"),
        http_version(_j("protocol", "http_protocol")).alias("protocol"),
        _j("request_id").alias("request_id"),
    )
    df = _cache(df)
    df, reason, detail = with_first_failure(df, *_checks(url))
    df = df.with_columns(
        pl.coalesce(pl.col("_reason"), reason).alias("_reason"),
        pl.coalesce(pl.col("_detail"), detail).alias("_detail"),
    )
    kind = EventTimeKind.REQUEST_START.value
    return finish(df, cdn=CDN, source_format=FORMAT, event_time_kind=kind)


_SNIFF_PREFIX = re.compile(_PREFIX_RE)
_SNIFF_KEY = re.compile(r'[{,]\s*"([A-Za-z_]+)"\s*:')
_DEFAULT_KEYS = {"time_elapsed", "geo_country_code", "is_tls", "request_user_agent"}


def _looks_fastly(line: str) -> bool:
    body = _SNIFF_PREFIX.sub("", line, count=1).strip()
    if not (body.startswith("{") and body.endswith("}")):
        return False
    keys = set(_SNIFF_KEY.findall(body))
    if "url" not in keys:
        return False
    if keys & {"fastly_info_state", "visits_this_service"}:
        return True
    if {"cache_status", "host"} <= keys and keys & _DEFAULT_KEYS:
        return True
    return {"date_time", "bytes", "version"} <= keys


def sniff(sample: list[str], header: str | None) -> bool:
    """True when most sample lines are Fastly JSON objects (optionally syslog-prefixed)."""
    if header is not None or not sample:
        return False
    hits = sum(_looks_fastly(line) for line in sample)
    return hits > 0 and hits * 2 >= len(sample)
