"""Vectorised reading of one-JSON-object-per-line text, with per-line failure isolation.

pyarrow's JSON reader parses a whole block at C speed but fails the block on one bad
line. `read_json_lines` parses the batch in one call and, only when that fails, splits
it around the row the reader names (bisecting when it names none): a clean batch pays
nothing and one poison line never sinks its neighbours.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.json as pj

from ingest.framing import join_lines
from ingest.records import Reason

_BLOCK = 1 << 24
_ROW_HINT = re.compile(r"in row (\d+)$")


@dataclass(frozen=True)
class JsonLines:
    """Parsed rows (`table`, aligned with `index`) and the lines that failed."""

    table: pa.Table  # rows of the good lines, in input order, following `schema`
    index: np.ndarray  # position in the input of each row of `table`
    bad_index: np.ndarray  # positions of lines that are not a JSON object of `schema`
    bad_reason: list[str]  # Reason code for each bad line
    bad_detail: list[str]


def _read(data: bytes, schema: pa.Schema) -> pa.Table:
    return pj.read_json(
        pa.BufferReader(data),
        read_options=pj.ReadOptions(use_threads=False, block_size=max(_BLOCK, len(data) + 1)),
        parse_options=pj.ParseOptions(
            explicit_schema=schema,
            unexpected_field_behavior="ignore",
            newlines_in_values=False,
        ),
    )


def _reason_of(exc: Exception) -> Reason:
    text = str(exc)
    if "Column()" in text:
        return Reason.BAD_JSON
    if "changed" in text or "conversion" in text.lower() or "Column(" in text:
        return Reason.BAD_FIELD_TYPE
    return Reason.BAD_JSON


def read_json_lines(raw: pa.Array | pa.ChunkedArray, schema: pa.Schema) -> JsonLines:
    """Parse each value of `raw` (one JSON object per value) against `schema`.

    Fields missing from a line are null; fields not in `schema` are ignored. A line
    that is not one JSON object, or has a value of the wrong JSON type for `schema`
    (declare string fields for vendors that quote numbers), is reported bad.
    """
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    n = len(raw)
    tables: list[pa.Table] = []
    good: list[np.ndarray] = []
    bad: list[int] = []
    reasons: list[str] = []
    details: list[str] = []
    # Each line must hold exactly one object: a line with two objects, or none, would
    # shift every row after it, so such lines are found up front (vectorised).
    stack = [(0, n)]
    while stack:
        lo, hi = stack.pop()
        if lo >= hi:
            continue
        chunk = raw.slice(lo, hi - lo)
        try:
            table = _read(join_lines(chunk), schema)
            if table.num_rows != hi - lo:
                raise pa.ArrowInvalid("row count differs from line count")
        except pa.ArrowInvalid as exc:
            hint = _ROW_HINT.search(str(exc))
            row = lo + int(hint.group(1)) if hint else -1
            if hi - lo == 1 or lo <= row < hi:
                # The reader names the failing row of a single block: skip straight to it.
                where = lo if hi - lo == 1 else row
                bad.append(where)
                reasons.append(_reason_of(exc).value)
                details.append(str(exc).splitlines()[0][:200])
                stack.append((where + 1, hi))
                stack.append((lo, where))
                continue
            mid = (lo + hi) // 2
            stack.append((mid, hi))
            stack.append((lo, mid))
            continue
        tables.append(table)
        good.append(np.arange(lo, hi, dtype=np.int64))
    if tables:
        table = pa.concat_tables(tables)
        index = np.concatenate(good)
        order = np.argsort(index, kind="stable")
        table, index = table.take(pa.array(order)), index[order]
    else:
        table, index = schema.empty_table(), np.empty(0, dtype=np.int64)
    order_bad = sorted(range(len(bad)), key=bad.__getitem__)
    return JsonLines(
        table,
        index,
        np.asarray([bad[i] for i in order_bad], dtype=np.int64),
        [reasons[i] for i in order_bad],
        [details[i] for i in order_bad],
    )


def scalar_pattern(keys: Sequence[str], *, either_case: bool = False) -> str:
    """Regex capturing (`"key":` prefix, bare number/boolean value) for `keys`.

    `either_case` also matches the key with its first letter in the other case (Azure
    writes camelCase and PascalCase). A key inside a JSON string value is escaped
    (`\\"key\\"`), so it never matches.
    """
    if either_case:
        names = "|".join(f"[{k[0].lower()}{k[0].upper()}]{re.escape(k[1:])}" for k in keys)
    else:
        names = "|".join(re.escape(k) for k in keys)
    return r'("(?:' + names + r')"\s*:\s*)(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false)'


def quote_scalars(body: pl.Series, pattern: str) -> pl.Series:
    """`body` with the bare numbers/booleans that `pattern` captures put in quotes.

    Vendors write the same field as `200` in one line and `"200"` in the next; quoting
    lets one all-string schema read both. Only lines holding a bare scalar at all go
    through the capture regex.
    """
    needs = body.str.contains(r'":\s*[-0-9tf]').fill_null(False)
    if not needs.any():
        return body
    fixed = body.filter(needs).str.replace_all(pattern, '${1}"${2}"')
    return body.clone().scatter(needs.arg_true(), fixed)


def read_aligned(body: pl.Series, schema: pa.Schema) -> pl.DataFrame:
    """One row per value of `body`: the `schema` columns (null for bad lines), `_reason`, `_detail`."""
    parsed = read_json_lines(body.to_arrow(), schema)
    n = body.len()
    pos = np.full(n, -1, dtype=np.int64)
    pos[parsed.index] = np.arange(parsed.index.size)
    fields = pl.from_arrow(parsed.table.take(pa.array(pos, mask=pos < 0)))
    assert isinstance(fields, pl.DataFrame)
    nulls = pl.repeat(None, n, dtype=pl.String, eager=True)
    return fields.with_columns(
        nulls.scatter(parsed.bad_index, parsed.bad_reason).alias("_reason"),
        nulls.clone().scatter(parsed.bad_index, parsed.bad_detail).alias("_detail"),
    )
