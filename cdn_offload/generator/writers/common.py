"""Helpers the vendor writers share: behaviour lookups, number formats, output bytes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import polars as pl
import pyarrow as pa

from cdn_offload.generator.catalog import Behaviour


def by_behaviour(values: dict[Behaviour, str]) -> pl.Expr:
    """Vendor value of each row's `behaviour` (every behaviour must be in `values`)."""
    table = [values[b] for b in Behaviour]
    return pl.lit(pl.Series(table, dtype=pl.String)).gather(pl.col("behaviour").cast(pl.Int64))


def with_variant(
    df: pl.DataFrame, rng: np.random.Generator, column: str, share: float, variants: dict[str, str]
) -> pl.DataFrame:
    """Replace `share` of the values of `column` found in `variants` by their variant."""
    flip = pl.Series(rng.random(df.height) < share)
    return df.with_columns(
        pl.when(flip & pl.col(column).is_in(list(variants)))
        .then(pl.col(column).replace(variants))
        .otherwise(pl.col(column))
        .alias(column)
    )


def seconds_text(ms: pl.Expr) -> pl.Expr:
    """Integer milliseconds as seconds with exactly three decimals ("0.042")."""
    return pl.format("{}.{}", ms // 1000, (ms % 1000).cast(pl.String).str.zfill(3))


def encode_spaces(expr: pl.Expr) -> pl.Expr:
    """Percent-encode spaces, as CloudFront and Akamai log user agents (values hold no '%')."""
    return expr.str.replace_all(" ", "%20", literal=True)


def ndjson(df: pl.DataFrame) -> bytes:
    """One compact JSON object per row, keys in column order, each line ending in '\\n'."""
    buf = io.BytesIO()
    df.write_ndjson(buf)
    return buf.getvalue()


def tsv(df: pl.DataFrame, columns: Sequence[str]) -> bytes:
    """TAB-separated rows of string columns, no quoting (values never hold TABs or newlines)."""
    buf = io.BytesIO()
    df.select(columns).write_csv(
        buf, separator="\t", include_header=False, quote_style="never", null_value="-"
    )
    return buf.getvalue()


class Raw:
    """A JSON fragment spliced in verbatim, e.g. optional `"key":true,` members."""

    def __init__(self, expr: pl.Expr) -> None:
        self.expr = expr


Value: TypeAlias = "pl.Expr | str | int | bool | Raw | list[Field]"
Field: TypeAlias = "tuple[str, Value]"


def _template(df: pl.DataFrame, fields: Sequence[Field], quote_all: bool) -> list[pl.Expr | str]:
    """Literal strings and expressions that concatenate to one JSON object per row."""
    out: list[pl.Expr | str] = ["{"]
    first = True
    for key, value in fields:
        if isinstance(value, Raw):  # carries its own separators
            out.append(value.expr)
            continue
        out.append(("" if first else ",") + f'"{key}":')
        first = False
        if isinstance(value, list):
            out += _template(df, value, quote_all)
        elif isinstance(value, pl.Expr):
            quoted = quote_all or df.select(value.head(0)).dtypes[0] == pl.String
            out += ['"', value.cast(pl.String), '"'] if quoted else [value.cast(pl.String)]
        elif isinstance(value, bool):
            text = "true" if value else "false"
            out.append(f'"{text}"' if quote_all else text)
        elif isinstance(value, int):
            out.append(f'"{value}"' if quote_all else str(value))
        else:
            out.append(f'"{value}"')
    out.append("}")
    return out


def json_lines(df: pl.DataFrame, fields: Sequence[Field], *, quote_all: bool = False) -> memoryview:
    """NDJSON built with one `concat_str` per batch: constants are folded into the template.

    Values are written as-is, without JSON escaping: every generated string is known
    to hold no quote, backslash or control character. Expressions must not be null.
    String expressions are quoted; integer/boolean expressions are bare unless
    `quote_all` (Akamai-style all-string objects). A list value is a nested object.
    """
    parts: list[pl.Expr] = []
    pending = ""
    for item in [*_template(df, fields, quote_all), "\n"]:
        if isinstance(item, str):
            pending += item
        else:
            parts += [pl.lit(pending), item]
            pending = ""
    parts.append(pl.lit(pending))
    return joined(df.select(pl.concat_str(parts).alias("line")).to_series())


def joined(lines: pl.Series) -> memoryview:
    """The concatenation of `lines` (each already newline-terminated): a view of the Arrow buffer."""
    if lines.len() == 0:
        return memoryview(b"")
    arr = lines.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    return memoryview(arr.buffers()[2])[int(offsets[0]) : int(offsets[-1])]
