"""Column steps shared by the JSON vendor parsers, each costing a few ns per line.

Every step gives the same result as the plain Polars expression it replaces (noted on
each), but does the expensive part (stripping, regex replacing, percent-decoding,
formatting a reject detail) only for the lines that need it, found by a cheap test on
the whole column. On a clean batch, those lines are none or few.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ingest.normalize import host_of_url, split_url
from ingest.records import Reason


def without_blanks(df: pl.DataFrame, columns: Sequence[str], blanks: Sequence[str]) -> pl.DataFrame:
    """`df` with each value of `columns` that strips to one of `blanks` nulled.

    Same as `pl.when(c.str.strip_chars().is_in(blanks)).then(None).otherwise(c)`.
    """
    if not columns or df.height == 0:
        return df
    nulled, padded = _blank_exprs(tuple(columns), tuple(blanks))
    out = df.with_columns(*nulled, padded)
    maybe = out["_padded"]
    if not maybe.any():
        return out.drop("_padded")
    # Some value starts with white space (or a blank's first character): strip those.
    rows = maybe.arg_true()
    part = df[rows].select(columns)
    fixed = part.select(
        pl.when(pl.col(c).str.strip_chars().is_in(blanks)).then(None).otherwise(pl.col(c)).alias(c)
        for c in columns
    )
    return out.drop("_padded").with_columns(out[c].scatter(rows, fixed[c]) for c in columns)


@cache
def _blank_exprs(
    columns: tuple[str, ...], blanks: tuple[str, ...]
) -> tuple[list[pl.Expr], pl.Expr]:
    """(expressions nulling exact blanks, flag of the lines holding a possibly padded one)."""
    starts = sorted({b[0] for b in blanks if b})

    def padded(c: pl.Expr) -> pl.Expr:
        # A value that strips to a blank without being one starts with white space
        # (ASCII: below "!"; other: a non-ASCII first byte) or with a blank's first char.
        lead = (c < "!") | (c >= "\u0080")
        for s in starts:
            lead = lead | c.str.starts_with(s)
        return lead & ~c.is_in(blanks)

    nulled = [
        pl.when(pl.col(c).is_in(blanks)).then(None).otherwise(pl.col(c)).alias(c) for c in columns
    ]
    flag = pl.any_horizontal([padded(pl.col(c)) for c in columns]).fill_null(False)
    return nulled, flag.alias("_padded")


def per_distinct(df: pl.DataFrame, keys: Sequence[str], exprs: Sequence[pl.Expr]) -> pl.DataFrame:
    """`df` plus `exprs`, computed once per distinct combination of the `keys` columns.

    Same as `df.with_columns(exprs)` for expressions that read only `keys` row by row;
    cheaper when those hold few distinct values (cache states, flags).
    """
    table = df.select(keys).unique().with_columns(exprs)
    return df.join(table, on=list(keys), how="left", nulls_equal=True, maintain_order="left")


def http_version(expr: pl.Expr) -> pl.Expr:
    """'HTTP/2' -> 'HTTP/2.0'; values that are not an HTTP version become null.

    Same as matching `^HTTP/\\d(\\.\\d)?$` and replacing `^HTTP/(\\d)$` by `HTTP/${1}.0`.
    """
    valid = expr.str.contains(r"^HTTP/\d(\.\d)?$")
    return pl.when(valid & (expr.str.len_chars() == 6)).then(expr + ".0").when(valid).then(expr)


def url_parts(
    df: pl.DataFrame, column: str, path: str, query: str, host: str | None = None
) -> pl.DataFrame:
    """`df` plus `path`, `query` (and `host`) of the URL in `column`.

    Same as `normalize.split_url` (and `normalize.host_of_url`). Paths (`/...`) and
    http(s) URLs without fragment, userinfo, IPv6 host or newline are cut with literal
    splits; the other values go through those regexes.
    """
    url = pl.col(column).cast(pl.String)
    plain = ~url.str.contains(r"[#\n]")
    kinds = df.select(
        (url.str.starts_with("/") & plain).fill_null(False).alias("rel"),
        ((url.str.starts_with("https://") | url.str.starts_with("http://")) & plain)
        .fill_null(False)
        .alias("web"),
    )
    rel, web = kinds["rel"], kinds["web"]
    nothing = pl.lit(None, dtype=pl.String)
    parts = {path: nothing, query: nothing, host or "_host": nothing}
    if web.any():
        # scheme://authority/after: `after` is cut at '?' into path and query.
        rest = df.select(
            url.str.splitn("://", 2).struct.field("field_1").str.splitn("/", 2).alias("r")
        ).unnest("r")
        authority, after = rest["field_0"], rest["field_1"]
        web = web & ~df[column].str.contains(r"[@\[]") & ~authority.str.contains("?", literal=True)
        cut = after.str.splitn("?", 2).struct.unnest()
        parts = {
            path: pl.when(web).then(
                pl.when(after.is_null()).then(pl.lit("")).otherwise("/" + cut["field_0"])
            ),
            query: pl.when(web).then(cut["field_1"]),
            host or "_host": pl.when(web).then(
                authority.str.splitn(":", 2).struct.field("field_0")
            ),
        }
    if rel.any():
        cut = df.select(url.str.splitn("?", 2).alias("c")).unnest("c")
        parts[path] = pl.when(rel).then(cut["field_0"]).otherwise(parts[path])
        parts[query] = pl.when(rel).then(cut["field_1"]).otherwise(parts[query])
    if host is None:
        del parts["_host"]
    df = df.with_columns([expr.alias(name) for name, expr in parts.items()])
    other = ~rel & ~web & df[column].is_not_null()
    if not other.any():
        return df
    rows = other.arg_true()
    exact_path, exact_query = split_url(url)
    exact = [exact_path.alias(path), exact_query.alias(query)]
    if host is not None:
        exact.append(host_of_url(url).alias(host))
    fixed = df.select(url.gather(rows)).select(exact)
    return df.with_columns([df[c].scatter(rows, fixed[c]) for c in fixed.columns])


RFC3339 = "%Y-%m-%dT%H:%M:%S%.f%#z"
# The RFC 3339 shape pyarrow's ISO 8601 cast reads exactly as the RFC3339 format does.
_RFC3339_SHAPE = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)
_UTC_MS = pl.Datetime("ms", "UTC")


def rfc3339(values: pl.Series) -> pl.Series:
    """UTC Datetime("ms") of each value, null where it does not parse.

    Same as `values.str.to_datetime(RFC3339, time_unit="ms", time_zone="UTC",
    strict=False)` (milliseconds floored), at a tenth of its cost: values of the plain
    RFC 3339 shape go through pyarrow's ISO 8601 cast, the others (or all, when that
    cast rejects one, e.g. February 30th) through the format.
    """
    shaped = values.str.contains(_RFC3339_SHAPE).fill_null(False)
    rows = None if shaped.all() else shaped.arg_true()
    picked = values if rows is None else values.gather(rows)
    try:
        nanos = pc.cast(picked.to_arrow(), pa.timestamp("ns", tz="UTC")).cast(pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _by_format(values)
    millis = (pl.Series(nanos, dtype=pl.Int64) // 1_000_000).cast(_UTC_MS)
    if rows is None:
        return millis.alias(values.name)
    out = _by_format(values.set(shaped, None))
    return out.scatter(rows, millis)


def _by_format(values: pl.Series) -> pl.Series:
    return values.str.to_datetime(RFC3339, time_unit="ms", time_zone="UTC", strict=False)


@dataclass(frozen=True)
class Check:
    """A line fails with `reason`/`detail` where `when` holds (null counts as passing).

    `refine`, when given, is evaluated only on the lines where `when` holds, and must
    hold too: the place for a costly condition behind a cheap necessary one.
    """

    when: pl.Expr
    reason: Reason
    detail: str
    refine: pl.Expr | None = None


class Checks:
    """An ordered list of `Check`s with its expressions built once (build it once too)."""

    def __init__(self, checks: Iterable[Check]) -> None:
        self.checks = tuple(checks)
        self.hits = [c.when.fill_null(False).alias(str(i)) for i, c in enumerate(self.checks)]
        self.any = (pl.col("_reason").is_null() & pl.any_horizontal(self.hits)).alias("_any")


def first_failures(df: pl.DataFrame, checks: Checks) -> pl.DataFrame:
    """`df` with `_reason`/`_detail` of the first failing check set where `_reason` is null.

    Same as `normalize.first_failure` coalesced into `_reason`/`_detail`; reasons and
    details are only formatted for the failing lines.
    """
    failing_any = df.select(checks.any).to_series()
    if not failing_any.any():
        return df
    rows = failing_any.arg_true()
    part = df[rows]
    hits = part.select(checks.hits)
    failed: list[tuple[Check, np.ndarray]] = []
    for i, check in enumerate(checks.checks):
        hit = hits[str(i)]
        if not hit.any():
            continue
        if check.refine is not None:
            ok = part.select(check.refine.fill_null(False)).to_series()
            hit = hit & ok
        failed.append((check, hit.to_numpy()))
    if not failed:
        return df
    matrix = np.column_stack([hit for _, hit in failed])
    found = matrix.any(axis=1)
    if not found.any():
        return df
    first = matrix[found].argmax(axis=1)
    at = rows.to_numpy()[found]
    reasons = [failed[i][0].reason.value for i in first]
    details = [failed[i][0].detail for i in first]
    return df.with_columns(
        df["_reason"].cast(pl.String).scatter(at, reasons),
        df["_detail"].cast(pl.String).scatter(at, details),
    )
