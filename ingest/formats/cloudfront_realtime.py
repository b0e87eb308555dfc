"""CloudFront real-time logs (Kinesis), section 3 of the format notes.

Decisions on the ambiguous parts of the format:

- Field list: records have no header and carry the fields the real-time log config
  selects, always in CloudFront's fixed order. `parse` assumes every field was selected:
  `DEFAULT_FIELDS` (43 fields, 2023 doc order) or its first 40 (the list before
  origin-fbl/origin-lbl/asn were added, which the public Kinesis record has). Any other
  selection needs `parse_with_fields(lines, fields)` with the config's field list, in
  delivery order. A line whose field count differs from the list is `bad_field_count`
  (trailing empty columns are ignored). When framing supplies a `#Fields:` header (a
  test fixture carries one), that header is the list. Ingest passes the setting
  `cloudfront_realtime_fields` to `parse_with_fields` (pipeline.parser_for).
- A field list without timestamp, cs-method, cs-uri-stem or sc-status makes every line
  `missing_field`; unknown names (newer fields such as `s-ip`) are carried and ignored.
- `timestamp` is epoch seconds with a millisecond fraction; digits after the third are
  truncated. It marks the end of the response.
- `cs-uri-stem` includes the query: it is split at the first `?`; `cs-uri-query`
  is used when the stem has none. Path and user agent are decoded twice as in standard
  logs (the public record shows `%253A` inside its query); the query is kept as logged.
- `cs-host` is the viewer Host here (`x-host-header` is the distribution domain and only
  a fallback).
- Sampling: the rate (1-100 %) is a property of the real-time log config, not a field
  of the record, so it is a parameter (setting `cloudfront_realtime_sampling_pct`);
  every row gets `sample_weight` = 100 / rate.
- Cache status, detail, tier, origin-request and `incomplete` follow the standard-log
  rules (`cloudfront.cache_columns`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

from ingest.errors import ConfigError
from ingest.formats.cloudfront import (
    EDGE_LOCATION_RE,
    bad_number,
    decode_log_encoding,
    first_value,
    header_fields,
    shared_columns,
    status_code,
)
from ingest.normalize import finish, first_reason, nullif_dash, split_url
from ingest.records import ParseResult, RawLines, Reason
from ingest.schema import EventTimeKind

FORMAT = "cloudfront_realtime"
CDN = "cloudfront"
DESCRIPTION = "Amazon CloudFront real-time logs (Kinesis): TAB-separated, fixed order, no header"

# Every field, in CloudFront's delivery order (2023 doc list).
# fmt: off
DEFAULT_FIELDS: tuple[str, ...] = (
    "timestamp", "c-ip", "time-to-first-byte", "sc-status", "sc-bytes", "cs-method",
    "cs-protocol", "cs-host", "cs-uri-stem", "cs-bytes", "x-edge-location", "x-edge-request-id",
    "x-host-header", "time-taken", "cs-protocol-version", "c-ip-version", "cs-user-agent",
    "cs-referer", "cs-cookie", "cs-uri-query", "x-edge-response-result-type", "x-forwarded-for",
    "ssl-protocol", "ssl-cipher", "x-edge-result-type", "fle-encrypted-fields", "fle-status",
    "sc-content-type", "sc-content-len", "sc-range-start", "sc-range-end", "c-port",
    "x-edge-detailed-result-type", "c-country", "cs-accept-encoding", "cs-accept",
    "cache-behavior-path-pattern", "cs-headers", "cs-header-names", "cs-headers-count",
    "origin-fbl", "origin-lbl", "asn",
)
# fmt: on
# Field counts meaning "every field selected": before and after the 2023 additions.
FULL_LIST_LENGTHS = (40, 43)
REQUIRED_FIELDS = ("timestamp", "cs-method", "cs-uri-stem", "sc-status")
# fmt: off
_USED_FIELDS = (
    "timestamp", "c-ip", "time-to-first-byte", "sc-status", "sc-bytes", "cs-method", "cs-host",
    "cs-uri-stem", "cs-bytes", "x-edge-location", "x-edge-request-id", "x-host-header",
    "time-taken", "cs-protocol-version", "cs-user-agent", "cs-uri-query",
    "x-edge-response-result-type", "x-edge-result-type", "sc-content-type",
    "x-edge-detailed-result-type", "c-country",
)
# fmt: on
_EPOCH_RE = r"^\d{9,11}(?:\.\d+)?$"


def _fields_of(group: pl.DataFrame, fields: Sequence[str]) -> pl.DataFrame:
    """One column per used field (null when not selected) plus `_reason`/`_detail`."""
    fields = list(fields)
    # Split once: an expression repeated per field would be re-evaluated per field.
    group = group.with_columns(pl.col("raw").str.split("\t").alias("_vals"))
    n_raw = pl.col("_vals").list.len()
    n = pl.col("raw").str.strip_chars_end("\t").str.count_matches("\t") + 1
    missing = [name for name in REQUIRED_FIELDS if name not in fields]
    if missing:
        bad, reason = pl.lit(True), Reason.MISSING_FIELD
        detail = pl.lit(f"field list lacks {', '.join(missing)}")
    else:
        bad = (n > len(fields)) | (n_raw < len(fields))
        reason = Reason.BAD_FIELD_COUNT
        detail = pl.format("{} fields, expected {}", n, pl.lit(len(fields)))
    return group.select(
        pl.exclude("header", "_vals"),
        *[
            pl.col("_vals").list.get(fields.index(name), null_on_oob=True).alias(name)
            if name in fields
            else pl.lit(None, dtype=pl.String).alias(name)
            for name in _USED_FIELDS
        ],
        pl.when(bad).then(pl.lit(reason.value)).otherwise(None).alias("_reason"),
        pl.when(bad).then(detail).otherwise(None).alias("_detail"),
    )


def _canonical(df: pl.DataFrame, sample_weight: float) -> ParseResult:
    ts = pl.col("timestamp")
    secs = ts.str.extract(r"^(\d+)", 1).cast(pl.Int64, strict=False)
    millis = ts.str.extract(r"^\d+\.(\d{1,3})", 1).str.pad_end(3, "0").cast(pl.Int64, strict=False)
    epoch_ms = secs * 1000 + millis.fill_null(0)
    df = df.with_columns(
        pl.when(ts.str.contains(_EPOCH_RE))
        .then(pl.from_epoch(epoch_ms, time_unit="ms").dt.cast_time_unit("ms"))
        .dt.replace_time_zone("UTC")
        .alias("event_time"),
        status_code(pl.col("sc-status")).alias("status"),
    )
    own = first_reason(
        (pl.col("event_time").is_null(), Reason.BAD_TIMESTAMP),
        (bad_number("sc-bytes", "cs-bytes", "time-taken", "time-to-first-byte"), Reason.BAD_NUMBER),
    )
    fresh = pl.col("_reason").is_null()
    path, query = split_url(nullif_dash(pl.col("cs-uri-stem")))
    df = df.with_columns(
        pl.coalesce(pl.col("_reason"), own).alias("_reason"),
        pl.when(fresh & (own == Reason.BAD_TIMESTAMP.value))
        .then(pl.format("unparsable timestamp '{}'", ts.str.slice(0, 30)))
        .when(fresh & (own == Reason.BAD_NUMBER.value))
        .then(pl.lit("non-numeric byte count or duration"))
        .otherwise(pl.col("_detail"))
        .alias("_detail"),
        first_value("cs-host", "x-host-header").alias("host"),
        path.alias("path"),
        pl.coalesce(query, nullif_dash(pl.col("cs-uri-query"))).alias("query"),
        nullif_dash(pl.col("c-country")).alias("client_country"),
        nullif_dash(pl.col("cs-user-agent")).alias("user_agent"),
        pl.lit(sample_weight).alias("sample_weight"),
        *shared_columns(),
    )
    df = decode_log_encoding(df)
    return finish(
        df,
        cdn=CDN,
        source_format=FORMAT,
        event_time_kind=EventTimeKind.RESPONSE_END.value,
        decode_path=False,
    )


def parse_with_fields(
    lines: RawLines, fields: Sequence[str], *, sampling_rate_pct: float = 100.0
) -> ParseResult:
    """Canonical rows and rejects for real-time records carrying exactly `fields`.

    Args:
        fields: the real-time log config's field names, in delivery order.
        sampling_rate_pct: the config's sampling rate; rows get weight 100 / rate.

    Returns:
        ParseResult holding every input line once, rows in input order.

    Raises:
        ConfigError: the sampling rate is outside (0, 100].
    """
    if not 0 < sampling_rate_pct <= 100:
        raise ConfigError("sampling_rate_pct", f"must be in (0, 100], got {sampling_rate_pct}")
    if lines.num_rows == 0:
        return ParseResult.empty()
    df = pl.from_arrow(lines)
    assert isinstance(df, pl.DataFrame)
    return _canonical(_fields_of(df, fields), 100.0 / sampling_rate_pct)


def parse(lines: RawLines, *, sampling_rate_pct: float = 100.0) -> ParseResult:
    """Canonical rows and rejects for records with every field selected (see module doc).

    Args:
        sampling_rate_pct: the config's sampling rate; rows get weight 100 / rate.

    Returns:
        ParseResult holding every input line once, rows in input order.

    Raises:
        ConfigError: the sampling rate is outside (0, 100].
    """
    if not 0 < sampling_rate_pct <= 100:
        raise ConfigError("sampling_rate_pct", f"must be in (0, 100], got {sampling_rate_pct}")
    if lines.num_rows == 0:
        return ParseResult.empty()
    df = pl.from_arrow(lines)
    assert isinstance(df, pl.DataFrame)
    n = pl.col("raw").str.strip_chars_end("\t").str.count_matches("\t") + 1
    # Encode each line's field list as a header string so few groups are split once.
    df = df.with_row_index("_idx").with_columns(
        pl.when(pl.col("header").is_not_null())
        .then(pl.col("header"))
        .when(n == FULL_LIST_LENGTHS[0])
        .then(pl.lit(" ".join(DEFAULT_FIELDS[: FULL_LIST_LENGTHS[0]])))
        .otherwise(pl.lit(" ".join(DEFAULT_FIELDS)))
        .alias("header")
    )
    groups = df.partition_by("header", as_dict=True, maintain_order=True)
    parts = [_fields_of(g, header_fields(str(key[0]))) for key, g in groups.items()]
    return _canonical(pl.concat(parts).sort("_idx").drop("_idx"), 100.0 / sampling_rate_pct)


_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"}
)


def _record_match(line: str) -> bool:
    parts = line.rstrip("\t").split("\t")
    return (
        len(parts) >= 5
        and re.match(r"^\d{10}\.\d{3}$", parts[0]) is not None
        and any(p in _METHODS for p in parts[1:12])
        and any(re.match(EDGE_LOCATION_RE, p) for p in parts[1:16])
    )


def sniff(sample: list[str], header: str | None) -> bool:
    """True for a header naming `timestamp` and CloudFront fields, or for records that start
    with epoch seconds.milliseconds and carry an HTTP method and an edge location."""
    if header is not None:
        names = set(header_fields(header))
        cloudfront = bool(names & {"x-edge-location", "cs-uri-stem"})
        return "timestamp" in names and "date" not in names and cloudfront
    lines = [s for s in sample if s.strip()]
    hits = sum(_record_match(s) for s in lines)
    return bool(lines) and hits * 2 > len(lines)
