"""Shared, vectorised building blocks for format parsers.

A vendor module turns `RawLines` into a Polars frame holding the canonical columns it
can fill, plus `_reason`/`_detail` (null for a good line, a `Reason` code otherwise),
and hands it to `finish()`. `finish()` applies everything that must be the same for
every vendor: defaults, flags implied by the cache status, path/host/method
normalisation, generic validity checks and the split into rows and rejects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pyarrow as pa

from ingest import line_scan
from ingest.records import QUARANTINE_SCHEMA, ParseResult, Reason, Stage
from ingest.schema import CANONICAL_FIELDS, CANONICAL_SCHEMA, LINEAGE_COLUMNS, STATUS_FLAGS

_STATUS_TO_SERVED = {s.value: flags[0].value for s, flags in STATUS_FLAGS.items()}
_STATUS_TO_ORIGIN = {s.value: flags[1].value for s, flags in STATUS_FLAGS.items()}
_POLARS_TYPES: dict[str, pl.DataType] = {
    name: pl.Series(pa.array([], type=typ)).dtype for name, typ, _, _ in CANONICAL_FIELDS
}
_DEFAULTS: dict[str, object] = {
    "cache_tier": "unknown",
    "is_viewer_request": True,
    "sample_weight": 1.0,
}
_METHOD_RE = r"^[A-Z][A-Z_-]{0,19}$"


def nullif_dash(expr: pl.Expr) -> pl.Expr:
    """'-' and '' mean "no value" in most formats."""
    return pl.when(expr.is_in(["-", ""])).then(None).otherwise(expr)


def to_int(expr: pl.Expr) -> pl.Expr:
    """Lenient integer: '-', '', null and unparsable text become null."""
    return nullif_dash(expr).cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)


def to_float(expr: pl.Expr) -> pl.Expr:
    return nullif_dash(expr).cast(pl.Float64, strict=False)


def first_reason(*checks: tuple[pl.Expr, Reason]) -> pl.Expr:
    """The first failing check's reason code, or null when every check passes."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for cond, reason in reversed(checks):
        expr = pl.when(cond).then(pl.lit(reason.value)).otherwise(expr)
    return expr


def percent_decode(series: pl.Series, times: int = 1) -> pl.Series:
    """Percent-decode every value `times` times; a value that would not be valid UTF-8
    stays as it was before that pass.

    '+' is kept (it means space only in form bodies, not in paths or headers). `%XY`
    with two hex digits is decoded wherever it stands, as DuckDB's `url_decode` does.
    Log columns repeat a lot (user agents, content types, the segment paths every viewer
    requests): when distinct values are few, only those are decoded and mapped back.
    """
    return map_distinct(series, lambda values: _decode_times(values, times))


# Work on distinct values and map them back when each occurs this many times on average.
_REPEATS = 4


def _decode_times(series: pl.Series, times: int) -> pl.Series:
    for _ in range(times):
        series = _decode_once(series)
    return series


def _decode_once(series: pl.Series) -> pl.Series:
    needs = series.str.contains("%", literal=True).fill_null(False)
    if not needs.any():
        return series
    if not series.str.contains(_NON_ASCII_ESCAPE).any():
        # Only ASCII escapes (user agents' %20, paths' %2F): one multi-pattern pass,
        # and an ASCII byte can never make a value invalid UTF-8.
        return series.str.replace_many(_ASCII_ESCAPES, _ASCII_CHARS)
    if needs.all():
        decoded = _url_decode(series.to_arrow().cast(pa.large_string()))
        return pl.Series(series.name, decoded, dtype=pl.String)
    todo = series.filter(needs).to_arrow().cast(pa.large_string())
    decoded = pl.Series(_url_decode(todo), dtype=pl.String)
    return series.clone().scatter(needs.arg_true(), decoded)


_NON_ASCII_ESCAPE = r"%[89a-fA-F][0-9a-fA-F]"
_ASCII_ESCAPES = [f"%{hi}{lo}" for hi in "01234567" for lo in "0123456789abcdefABCDEF"]
_ASCII_CHARS = [chr(int(code[1:], 16)) for code in _ASCII_ESCAPES]
_HEX = np.full(256, -1, dtype=np.int16)
for _digits, _base in ((b"0123456789", 0), (b"abcdef", 10), (b"ABCDEF", 10)):
    _HEX[np.frombuffer(_digits, dtype=np.uint8)] = np.arange(len(_digits)) + _base


def _url_decode(values: pa.Array) -> pa.Array:
    """Decoded large strings of non-null `values`; a value decoding to invalid UTF-8 is kept."""
    n = len(values)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[
        values.offset : values.offset + n + 1
    ]
    data = values.buffers()[2]
    buf = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8)
    buf = buf[int(offsets[0]) : int(offsets[-1])]
    offsets = offsets - offsets[0]
    pct = np.flatnonzero(buf == ord("%"))
    owner = np.searchsorted(offsets, pct, side="right") - 1
    inside = pct + 2 < offsets[owner + 1]
    pct, owner = pct[inside], owner[inside]
    high, low = _HEX[buf[pct + 1]], _HEX[buf[pct + 2]]
    hexa = (high >= 0) & (low >= 0)
    pct, owner = pct[hexa], owner[hexa]
    byte = (high[hexa] * 16 + low[hexa]).astype(np.uint8)
    out, out_offsets = _apply_escapes(buf, offsets, pct, owner, byte)
    invalid = line_scan.invalid_utf8_lines(out, out_offsets[:-1])
    if invalid.size:  # those values keep their escapes
        keep = ~np.isin(owner, invalid)
        out, out_offsets = _apply_escapes(buf, offsets, pct[keep], owner[keep], byte[keep])
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(out_offsets), pa.py_buffer(out))


def _apply_escapes(
    buf: np.ndarray, offsets: np.ndarray, pct: np.ndarray, owner: np.ndarray, byte: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(data, offsets) with each `%XY` at `pct` replaced by `byte`."""
    out = buf.copy()
    out[pct] = byte
    keep = np.ones(buf.size, dtype=bool)
    keep[pct + 1] = False
    keep[pct + 2] = False
    removed = np.zeros(offsets.size, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=offsets.size - 1) * 2, out=removed[1:])
    return out[keep], offsets - removed


def split_url(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(path, query) of a URL that may carry scheme and authority, as on the wire."""
    no_authority = expr.str.replace(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*", "")
    no_fragment = no_authority.str.replace(r"#.*$", "")
    path = no_fragment.str.replace(r"\?.*$", "")
    query = pl.when(no_fragment.str.contains("?", literal=True)).then(
        no_fragment.str.replace(r"^[^?]*\?", "")
    )
    return path, query


_SCHEME = r"^[A-Za-z][A-Za-z0-9+.-]*://"
_HOST = r"(\[[^\]]*\]|[^:/?#]*)"


def host_of_url(expr: pl.Expr) -> pl.Expr:
    """Host part (no port, no userinfo) of an absolute URL, else null."""
    # Only a URL holding '@' can carry userinfo; the regex without that group is faster.
    at = expr.str.contains("@", literal=True)
    with_userinfo = pl.when(at).then(expr).str.extract(_SCHEME + r"(?:[^@/?#]*@)?" + _HOST, 1)
    return pl.when(at).then(with_userinfo).otherwise(expr.str.extract(_SCHEME + _HOST, 1))


def rejects_from(
    bad: pl.DataFrame, *, cdn: str | None, source_format: str | None, stage: Stage
) -> pa.Table:
    """Quarantine rows for `bad`, which holds `raw`, lineage, `_reason` and `_detail`."""
    now = datetime.now(tz=UTC)
    frame = bad.select(
        pl.col("raw").cast(pl.Binary),
        *[pl.col(c) if c in bad.columns else pl.lit(None).alias(c) for c in LINEAGE_COLUMNS],
        pl.lit(cdn, dtype=pl.String).alias("vendor"),
        pl.lit(source_format, dtype=pl.String).alias("source_format"),
        pl.lit(stage.value).alias("stage"),
        pl.col("_reason").alias("reason_code"),
        pl.col("_detail").cast(pl.String).alias("detail"),
        pl.lit(now).dt.cast_time_unit("ms").dt.replace_time_zone("UTC").alias("ingested_at"),
    )
    return frame.to_arrow().cast(QUARANTINE_SCHEMA)


def finish(
    df: pl.DataFrame,
    *,
    cdn: str,
    source_format: str,
    event_time_kind: str,
    decode_path: bool = True,
) -> ParseResult:
    """Complete the canonical columns, validate, and split into rows and rejects.

    Args:
        df: one row per input line with `raw`, lineage, `_reason`, `_detail` and any
            canonical columns the vendor fills. `path` is the path as on the wire
            (percent-encoded, no query); `cache_status` must be set.
        decode_path: percent-decode `path` once (False when the vendor already did).

    Returns:
        ParseResult whose rows and rejects together hold exactly `df.height` lines.
    """
    missing = [
        pl.lit(_DEFAULTS.get(name), dtype=_POLARS_TYPES[name]).alias(name)
        for name, _, _, _ in CANONICAL_FIELDS
        if name not in df.columns
    ]
    for col in ("_reason", "_detail"):
        if col not in df.columns:
            missing.append(pl.lit(None, dtype=pl.String).alias(col))
    df = df.with_columns(missing)
    if decode_path:
        df = df.with_columns(percent_decode(df["path"]).alias("path"))
    method = map_distinct(df["method"], lambda s: s.str.to_uppercase())
    status = pl.col("status")
    df = df.with_columns(
        pl.lit(cdn).alias("cdn"),
        pl.lit(source_format).alias("source_format"),
        pl.lit(event_time_kind).alias("event_time_kind"),
        map_distinct(df["host"], lambda s: s.str.to_lowercase().str.replace(r":\d+$", "")),
        method,
        map_distinct(method, lambda s: s.is_null() | ~s.str.contains(_METHOD_RE)).alias("_bad_m"),
        map_distinct(df["path"], lambda s: s.str.contains(r"[\x00-\x1f\x7f]")).alias("_bad_p"),
        pl.when(pl.col("path").str.starts_with("/"))
        .then(pl.col("path"))
        .otherwise(pl.lit("/") + pl.col("path")),
        nullif_dash(pl.col("query")).alias("query"),
        pl.col("cache_status").fill_null("UNKNOWN"),
        pl.col("served_from_cache").fill_null(
            pl.col("cache_status").replace_strict(_STATUS_TO_SERVED, default="unknown")
        ),
        pl.col("origin_request").fill_null(
            pl.col("cache_status").replace_strict(_STATUS_TO_ORIGIN, default="unknown")
        ),
        pl.col("cache_tier").fill_null("unknown"),
        pl.col("is_viewer_request").fill_null(True),
        pl.col("incomplete").fill_null(status.is_in([0, 499])),
        pl.col("sample_weight").fill_null(1.0),
        map_distinct(
            df["content_type"], lambda s: s.str.replace(r"\s*;.*$", "").str.to_lowercase()
        ),
        map_distinct(df["client_country"], lambda s: s.str.to_uppercase()),
    )
    generic = first_reason(
        (pl.col("event_time").is_null(), Reason.BAD_TIMESTAMP),
        (status.is_null() | (status < 0) | (status > 999), Reason.BAD_STATUS),
        (pl.col("_bad_m"), Reason.BAD_METHOD),
        (pl.col("path").is_null() | pl.col("_bad_p"), Reason.BAD_PATH),
    )
    df = df.with_columns(pl.coalesce(pl.col("_reason"), generic).alias("_reason"))
    good = df.filter(pl.col("_reason").is_null())
    bad = df.filter(pl.col("_reason").is_not_null())
    rows = good.select(
        [pl.col(name).cast(_POLARS_TYPES[name], strict=False) for name, _, _, _ in CANONICAL_FIELDS]
    ).to_arrow()
    rows = rows.cast(CANONICAL_SCHEMA)
    rejects = rejects_from(bad, cdn=cdn, source_format=source_format, stage=Stage.PARSING)
    return ParseResult(rows, rejects)


def fill_details(df: pl.DataFrame, details: Mapping[str, pl.Expr]) -> pl.DataFrame:
    """`_detail` of rejected rows that lack one, by their `_reason` code.

    Detail texts are formatted for the rejected rows only: formatting them for every
    row (as `when/then` would) costs as much as parsing a clean batch's fields.
    """
    todo = df["_reason"].is_not_null() & df["_detail"].is_null()
    if not todo.any():
        return df
    detail: pl.Expr = pl.col("_detail")
    for code, text in details.items():
        detail = pl.when(pl.col("_reason") == code).then(text).otherwise(detail)
    filled = df.filter(todo).select(detail.cast(pl.String)).to_series()
    return df.with_columns(df["_detail"].cast(pl.String).scatter(todo.arg_true(), filled))


def map_distinct(series: pl.Series, fn: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """`fn(series)`, computed on the distinct values when they repeat (hosts, methods,
    content types, paths of live segments) and mapped back: one hash pass instead of a
    string operation per row. `fn` must be element-wise."""
    if series.len() == 0:
        return fn(series).alias(series.name)
    distinct = series.unique()
    if distinct.len() * _REPEATS > series.len():
        return fn(series).alias(series.name)
    mapped = fn(distinct)
    if mapped is distinct:  # nothing to change (e.g. no value holds an escape)
        return series
    return series.replace_strict(distinct, mapped, return_dtype=mapped.dtype).alias(series.name)


def first_failure(*checks: tuple[pl.Expr, Reason, str]) -> tuple[pl.Expr, pl.Expr]:
    """(reason, detail) of the first check whose condition holds; both null when none does.

    A null condition counts as passing.
    """
    reason: pl.Expr = pl.lit(None, dtype=pl.String)
    detail: pl.Expr = pl.lit(None, dtype=pl.String)
    for cond, code, text in reversed(checks):
        hit = cond.fill_null(False)
        reason = pl.when(hit).then(pl.lit(code.value)).otherwise(reason)
        detail = pl.when(hit).then(pl.lit(text)).otherwise(detail)
    return reason, detail


def with_first_failure(
    df: pl.DataFrame, *checks: tuple[pl.Expr, Reason, str]
) -> tuple[pl.DataFrame, pl.Expr, pl.Expr]:
    """`first_failure` evaluating each condition once: `df` with the index of the first
    failing check in `_check`, and (reason, detail) expressions reading it."""
    index: pl.Expr = pl.lit(None, dtype=pl.UInt16)
    for i, (cond, _, _) in reversed(list(enumerate(checks))):
        index = pl.when(cond.fill_null(False)).then(pl.lit(i, dtype=pl.UInt16)).otherwise(index)
    codes = {i: code.value for i, (_, code, _) in enumerate(checks)}
    texts = {i: text for i, (_, _, text) in enumerate(checks)}
    check = pl.col("_check")
    return (
        df.with_columns(index.alias("_check")),
        check.replace_strict(codes, default=None, return_dtype=pl.String),
        check.replace_strict(texts, default=None, return_dtype=pl.String),
    )
