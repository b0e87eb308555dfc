"""Splitting TAB-separated log lines into named columns (CloudFront logs).

`str.split` builds a list per line, copying every field, used or not, and reading a
field walks the lists again. `str.split_exact` stops after the last field asked for
and yields a struct whose fields are the columns: 5x faster on CloudFront's 33-field
lines, of which 21 are used. (A zero-copy split into Arrow string views pointing at
the lines was tried: the two dozen numpy passes per field it needs cost more.)
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

FIELD_COUNT = "_n"


def strip_trailing_tabs(raw: pl.Series) -> pl.Series:
    """`raw` without trailing TABs (empty trailing fields); copied only when one has them."""
    if raw.len() and bool(raw.str.ends_with("\t").any()):
        return raw.str.strip_chars_end("\t")
    return raw


def tab_fields(
    raw: pl.Series, positions: Mapping[str, int | None], *, count: bool = False
) -> pl.DataFrame:
    """Named columns cut from TAB-separated lines.

    Args:
        raw: one line per value, without trailing TABs (`strip_trailing_tabs`).
        positions: column name -> 0-based field index, or None for a field the lines
            do not have (the column is then all null).
        count: add `_n`, each line's field count (an empty line counts one field).

    Returns:
        One row per line: a String column per name, null where the line has fewer
        fields. So field k is null exactly when the line has k fields or fewer, which
        checks a minimum field count without counting.
    """
    present = [i for i in positions.values() if i is not None]
    parts = raw.str.split_exact("\t", max(present, default=0)).struct.unnest()
    columns: list[pl.Expr | pl.Series] = [
        pl.col(f"field_{i}").alias(name) if i is not None else pl.lit(None, pl.String).alias(name)
        for name, i in positions.items()
    ]
    if count:
        columns.append((raw.str.count_matches("\t", literal=True) + 1).alias(FIELD_COUNT))
    return parts.select(columns)


def field_count(raw: pl.Expr) -> pl.Expr:
    """Field count of TAB-separated lines without trailing TABs."""
    return raw.str.count_matches("\t", literal=True) + 1
