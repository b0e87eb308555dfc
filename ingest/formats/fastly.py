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
from functools import cache

import polars as pl
import pyarrow as pa

from ingest.json_fields import (
    Check,
    Checks,
    first_failures,
    http_version,
    per_distinct,
    url_parts,
    without_blanks,
)
from ingest.json_scalars import read_aligned
from ingest.normalize import finish, host_of_url
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
# Canonical input -> the JSON keys it is read from, first holding a value wins.
_GROUPS: dict[str, tuple[str, ...]] = {
    **{key: (key,) for key in ("url", "server", "host", "status", "bytes", "request_id")},
    **{key: (key,) for key in ("time_elapsed", "time_to_first_byte", "content_type")},
    **{"cache_control": ("cache_control",), "country": ("geo_country_code",)},
    **{"time": ("timestamp", "date_time"), "pop": ("pop", "edge_location")},
    **{"method": ("method", "request"), "client": ("client_ip", "ip")},
    **{"bytes_sent": ("resp_bytes_written",), "body_written": ("resp_body_bytes_written",)},
    **{"request_bytes": ("req_bytes_read",), "visits": ("visits_this_service",)},
    **{"state": ("fastly_info_state", "cache_status")},
    **{"user_agent": ("request_user_agent", "http_useragent")},
    **{"protocol": ("protocol", "http_protocol")},
}
_HTTP = {"http_protocol": "protocol", "http_useragent": "useragent"}  # keys inside `http`
_KEYS = tuple(k for keys in _GROUPS.values() for k in keys if k not in _HTTP)
_SCHEMA = pa.schema(
    [(k, pa.string()) for k in _KEYS]
    + [("http", pa.struct([(k, pa.string()) for k in _HTTP.values()]))]
)
_SUFFIX_RE = "(?:" + "|".join(re.escape(s) for s in FASTLY_SUFFIXES) + ")+$"
_URL_RE = r"^(/|[A-Za-z][A-Za-z0-9+.-]*://)"
# Timestamps outside this range are unit or typing mistakes, not requests.
PLAUSIBLE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
_STATES = {k: v.value for k, v in FASTLY_STATES.items()}
_SERVED = [CacheStatus.HIT, CacheStatus.HIT_STALE, CacheStatus.REVALIDATED]
_BLANKS = ["-", "", "(null)"]
# Inputs read as numbers (a blank casts to null anyway); a bad one reports its key.
_NUMERIC = ("visits", "time_elapsed", "time_to_first_byte", "request_bytes", "bytes_sent")
_NUMBERS = {name: _GROUPS[name][0] for name in (*_NUMERIC, "body_written", "bytes")}
_DIGITS = r"^\d+(\.\d+)?$"
_PER_VALUE_KEYS = ("_state", "_cache_control", "_protocol")


def event_time(text: pl.Expr) -> pl.Expr:
    """UTC Datetime("ms") from epoch s/ms/µs/ns (unit by magnitude), ISO 8601 or CLF; else null."""
    t = text.str.strip_chars()
    iso = t.str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T").str.replace(r"Z$", "+00:00")
    iso = pl.when(iso.str.contains(r"[+-]\d\d:?\d\d$")).then(iso).otherwise(iso + "+00:00")
    utc = pl.Datetime("ms", "UTC")
    return (
        pl.when(t.str.contains(_DIGITS))
        .then(_epoch(t))
        .otherwise(
            pl.coalesce(
                iso.str.strptime(utc, "%Y-%m-%dT%H:%M:%S%.f%z", strict=False),
                t.str.strip_chars("[]").str.strptime(utc, "%d/%b/%Y:%H:%M:%S %z", strict=False),
            )
        )
    )


def _epoch(t: pl.Expr) -> pl.Expr:
    """UTC Datetime("ms") of epoch digits in s, ms, µs or ns (unit by magnitude)."""
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
    return ms.round(0).cast(pl.Int64, strict=False).cast(pl.Datetime("ms", "UTC"))


def _other_times(df: pl.DataFrame) -> pl.DataFrame:
    """`df` with `event_time()` of `_time` where that is not epoch digits (costly parsing)."""
    other = df["_time"].is_not_null() & ~df["_digits"]
    if not other.any():
        return df
    rows = other.arg_true()
    times = df.select(pl.col("_time").gather(rows)).select(event_time(pl.col("_time")))
    event = df["event_time"]
    return df.with_columns(event.scatter(rows, times.to_series().cast(event.dtype)))


def _read(df: pl.DataFrame) -> pl.DataFrame:
    """`df` plus a `_<input>` column per `_GROUPS` entry (blanks null) and `_reason`/`_detail`."""
    text = df["raw"]
    if text.str.starts_with("<").any():  # `classic` syslog prefix on some lines
        text = text.str.replace(_PREFIX_RE, "")
    # Bare numbers and booleans under our keys read as their text.
    fields = read_aligned(text, _SCHEMA)
    http = pl.col("http")
    fields = fields.with_columns(
        http.struct.field("protocol").alias("http_protocol"),
        http.struct.field("useragent").alias("http_useragent"),
    ).select(
        *[
            pl.coalesce([pl.col(k) for k in keys]).alias(f"_{name}")
            for name, keys in _GROUPS.items()
        ],
        "_reason",
        "_detail",
    )
    text_inputs = [f"_{name}" for name in _GROUPS if name not in _NUMBERS]
    return without_blanks(df.hstack(fields), text_inputs, _BLANKS)


def _j(name: str) -> pl.Expr:
    return pl.col(f"_{name}")


def _fill_from_url(df: pl.DataFrame) -> pl.DataFrame:
    """`pop` from the cache node and `host` from the URL, for the lines that lack them."""
    missing = df.select(pl.col("pop").is_null() | pl.col("host").is_null()).to_series()
    if not missing.any():
        return df
    rows = missing.arg_true()
    node = pl.coalesce(_j("server"), pl.col("raw").str.extract(_PREFIX_RE, 1))
    node_pop = node.str.extract(r"^cache-([A-Za-z]{3})", 1).str.to_uppercase()
    filled = df[rows].select(
        pl.coalesce(pl.col("pop"), node_pop).alias("pop"),
        pl.coalesce(pl.col("host"), host_of_url(_j("url"))).alias("host"),
    )
    return df.with_columns(
        df["pop"].scatter(rows, filled["pop"]), df["host"].scatter(rows, filled["host"])
    )


@cache
def _per_value_columns() -> list[pl.Expr]:
    """Columns that depend only on `_state`, `_cache_control` or `_protocol` (few values)."""
    raw = _j("state").str.strip_chars()
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
    cache_control = _j("cache_control").str.to_lowercase()
    max_age = pl.coalesce(
        cache_control.str.extract(r"s-maxage=(\d+)", 1),
        cache_control.str.extract(r"max-age=(\d+)", 1),
    )
    return [
        status.alias("cache_status"),
        raw.alias("cache_status_raw"),
        pl.when(detail != "").then(detail).alias("cache_status_detail"),
        max_age.cast(pl.Int64, strict=False).alias("max_age_s"),
        http_version(_j("protocol")).alias("protocol"),
    ]


@cache
def _tier_columns() -> list[pl.Expr]:
    served = pl.col("cache_status").is_in([s.value for s in _SERVED])
    visits = pl.col("_visits_n")
    return [
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
    ]


@cache
def _numbers() -> list[pl.Expr]:
    return [
        *[_j(name).cast(pl.Float64, strict=False).alias(f"_{name}_f") for name in _NUMBERS],
        _j("status").cast(pl.Int64, strict=False).alias("status"),
        _j("visits").cast(pl.Int64, strict=False).alias("_visits_n"),
        pl.col("_time").str.contains(_DIGITS).fill_null(False).alias("_digits"),
    ]


@cache
def _columns() -> list[pl.Expr]:
    return [
        pl.when(pl.col("_digits")).then(_epoch(pl.col("_time"))).alias("event_time"),
        _j("pop").alias("pop"),
        _j("host").alias("host"),
        _j("method").alias("method"),
        _j("bytes_sent").cast(pl.Int64, strict=False).alias("bytes_sent"),
        pl.coalesce(_j("body_written"), _j("bytes"))
        .cast(pl.Int64, strict=False)
        .alias("body_bytes"),
        _j("request_bytes").cast(pl.Int64, strict=False).alias("request_bytes"),
        (pl.col("_time_elapsed_f") / 1000).round(3).alias("time_taken_ms"),
        (pl.col("_time_to_first_byte_f") * 1000).round(3).alias("ttfb_ms"),
        _j("content_type").alias("content_type"),
        _j("country").alias("client_country"),
        _j("client").alias("client_key"),
        _j("user_agent").alias("user_agent"),
        _j("request_id").alias("request_id"),
    ]


@cache
def _checks() -> Checks:
    url = _j("url")
    status = _j("status")
    checks = [
        Check(_j("time").is_null(), Reason.MISSING_FIELD, "timestamp"),
        Check(url.is_null(), Reason.MISSING_FIELD, "url"),
        Check(_j("method").is_null(), Reason.MISSING_FIELD, "method"),
        Check(
            pl.col("status").is_null(),
            Reason.MISSING_FIELD,
            "status (log resp.status)",
            refine=status.is_null() | status.str.strip_chars().is_in(_BLANKS),
        ),
        Check(pl.col("event_time").is_null(), Reason.BAD_TIMESTAMP, "unreadable timestamp"),
        Check(
            ~pl.col("event_time").is_between(*PLAUSIBLE), Reason.BAD_TIMESTAMP, "implausible year"
        ),
        Check(pl.col("status").is_null(), Reason.BAD_STATUS, "status is not an integer"),
        Check(
            ~url.str.starts_with("/"),
            Reason.BAD_PATH,
            "url is not a path or URL",
            refine=~url.str.contains(_URL_RE),
        ),
    ]
    for name, key in _NUMBERS.items():
        value = _j(name)
        checks.append(
            Check(
                value.is_not_null() & pl.col(f"_{name}_f").is_null(),
                Reason.BAD_NUMBER,
                key,
                refine=~value.str.strip_chars().is_in(_BLANKS),
            )
        )
    return Checks(checks)


def parse(lines: RawLines) -> ParseResult:
    """Canonical rows and rejects for Fastly JSON lines; together they hold every input line."""
    frame = pl.from_arrow(lines)
    assert isinstance(frame, pl.DataFrame)
    df = url_parts(_read(frame), "_url", "path", "query")
    df = _other_times(df.with_columns(_numbers()).with_columns(_columns()))
    df = per_distinct(_fill_from_url(df), _PER_VALUE_KEYS, _per_value_columns())
    df = first_failures(df.with_columns(_tier_columns()), _checks())
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
