"""Shared, vectorised building blocks for format parsers.

A vendor module turns `RawLines` into a Polars frame holding the canonical columns it
can fill, plus `_reason`/`_detail` (null for a good line, a `Reason` code otherwise),
and hands it to `finish()`. `finish()` applies everything that must be the same for
every vendor: defaults, flags implied by the cache status, path/host/method
normalisation, generic validity checks and the split into rows and rejects.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl
import pyarrow as pa

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


def percent_decode(series: pl.Series) -> pl.Series:
    """Percent-decode every value once; values that would not be valid UTF-8 stay as they are.

    '+' is kept (it means space only in form bodies, not in paths or headers).
    """
    if series.len() == 0:
        return series
    needs = series.str.contains("%", literal=True).fill_null(False)
    if not needs.any():
        return series
    todo = pl.DataFrame({"v": series.filter(needs)})
    con = duckdb.connect()
    con.register("todo", todo.to_arrow())
    decoded = pl.from_arrow(
        con.sql("select coalesce(try(url_decode(v)), v) as v from todo").to_arrow_table()
    )
    con.close()
    assert isinstance(decoded, pl.DataFrame)
    return series.clone().scatter(needs.arg_true(), decoded["v"])


def split_url(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(path, query) of a URL that may carry scheme and authority, as on the wire."""
    no_authority = expr.str.replace(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*", "")
    no_fragment = no_authority.str.replace(r"#.*$", "")
    path = no_fragment.str.replace(r"\?.*$", "")
    query = pl.when(no_fragment.str.contains("?", literal=True)).then(
        no_fragment.str.replace(r"^[^?]*\?", "")
    )
    return path, query


def host_of_url(expr: pl.Expr) -> pl.Expr:
    """Host part (no port, no userinfo) of an absolute URL, else null."""
    return expr.str.extract(r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)", 1)


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
    status = pl.col("status")
    df = df.with_columns(
        pl.lit(cdn).alias("cdn"),
        pl.lit(source_format).alias("source_format"),
        pl.lit(event_time_kind).alias("event_time_kind"),
        pl.col("host").str.to_lowercase().str.replace(r":\d+$", ""),
        pl.col("method").str.to_uppercase(),
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
        pl.col("content_type").str.replace(r"\s*;.*$", "").str.to_lowercase(),
        pl.col("client_country").str.to_uppercase(),
    )
    generic = first_reason(
        (pl.col("event_time").is_null(), Reason.BAD_TIMESTAMP),
        (status.is_null() | (status < 0) | (status > 999), Reason.BAD_STATUS),
        (
            pl.col("method").is_null() | ~pl.col("method").str.contains(_METHOD_RE),
            Reason.BAD_METHOD,
        ),
        (
            pl.col("path").is_null() | pl.col("path").str.contains(r"[\x00-\x1f\x7f]"),
            Reason.BAD_PATH,
        ),
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
