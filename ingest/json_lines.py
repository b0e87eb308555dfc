"""Vectorised reading of one-JSON-object-per-line text, with per-line failure isolation.

pyarrow's JSON reader parses a whole block at C speed but fails the block on one bad
line. `read_json_lines` parses the batch in one call and, only when that fails, splits
it around the row the reader names (confirmed by reading that line alone, as a line
holding several objects shifts the reader's row numbers; bisecting when it names
none): a clean batch pays nothing and one poison line never sinks its neighbours.
`json_scalars` sends it the lines its faster reader cannot answer exactly, quoted by
`quote_scalars` so that bare numbers and booleans read as text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.json as pj

from ingest.framing import joined_buffer
from ingest.records import Reason

_BLOCK = 1 << 24
# Lines that quote_scalars rewrites: some bare scalar right after `":`.
NEEDS_QUOTING = r'"\s*:\s*[-0-9tf]'
_ROW_HINT = re.compile(r"\s*in row (\d+)\.?$")
_ROW_NUMBERS = re.compile(r"in row (\d+)$", re.MULTILINE)
_SEVERAL = "not one JSON value per line"


@dataclass(frozen=True)
class JsonLines:
    """Parsed rows (`table`, aligned with `index`) and the lines that failed."""

    table: pa.Table  # rows of the good lines, in input order, following `schema`
    index: np.ndarray  # position in the input of each row of `table`
    bad_index: np.ndarray  # positions of lines that are not a JSON object of `schema`
    bad_reason: list[str]  # Reason code for each bad line
    bad_detail: list[str]


def read_table(raw: pa.Array, schema: pa.Schema | None) -> pa.Table:
    """Rows of `raw` (one JSON text per value) read against `schema` (inferred when None).

    One block, so that "in row N" of an error counts from the first value.

    Raises:
        pa.ArrowInvalid: a line does not parse.
    """
    # pyarrow 26 crashes (SIGSEGV) when the first value of a block is `null`; a leading
    # `{}` row keeps the reader away from that case and is dropped again.
    data = joined_buffer(raw, first="{}")
    block = max(_BLOCK, data.size + 1)
    try:
        table = pj.read_json(
            pa.BufferReader(data),
            read_options=pj.ReadOptions(use_threads=False, block_size=block),
            parse_options=pj.ParseOptions(
                explicit_schema=schema,
                unexpected_field_behavior="ignore" if schema is not None else "infer",
                newlines_in_values=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise pa.ArrowInvalid(_ROW_NUMBERS.sub(_row_before, str(exc))) from exc
    return table.slice(1)


def _row_before(match: re.Match[str]) -> str:
    return f"in row {int(match.group(1)) - 1}"


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
    # The reader skips a line holding only white space: it would shift every row after
    # it, so such lines are bad up front. Then only a line holding several objects
    # changes the row count (upwards), which the bisection below finds.
    blank = _blank(raw)
    for where in blank:
        bad.append(int(where))
        reasons.append(Reason.BAD_JSON.value)
        details.append("no JSON value")
    bounds = np.concatenate([[-1], blank, [n]])
    stack = [(int(lo) + 1, int(hi)) for lo, hi in pairwise(bounds)]
    while stack:
        lo, hi = stack.pop()
        if lo >= hi:
            continue
        try:
            table = read_table(raw.slice(lo, hi - lo), schema)
            if table.num_rows != hi - lo:
                raise pa.ArrowInvalid(_SEVERAL)
        except pa.ArrowInvalid as exc:
            where, error = _failing_line(raw, schema, lo, hi, exc)
            if where is None:
                mid = (lo + hi) // 2
                stack.append((mid, hi))
                stack.append((lo, mid))
                continue
            bad.append(where)
            reasons.append(_reason_of(error).value)
            details.append(_ROW_HINT.sub("", str(error).splitlines()[0]).strip()[:200])
            stack.append((where + 1, hi))
            stack.append((lo, where))
            continue
        tables.append(table)
        good.append(np.arange(lo, hi, dtype=np.int64))
    if tables:
        table = pa.concat_tables(tables)
        index = np.concatenate(good)
        if not bool(np.all(index[1:] > index[:-1])):
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


def _blank(raw: pa.Array) -> np.ndarray:
    """Positions of the values holding only JSON white space (or nothing)."""
    text = pl.Series(raw.cast(pa.large_string()))
    maybe = (text.str.len_bytes() == 0) | text.str.contains(r"^[ \t\r\n]").fill_null(False)
    if not maybe.any():
        return np.empty(0, dtype=np.int64)
    empty = maybe & (text.str.strip_chars(" \t\r\n").str.len_bytes() == 0).fill_null(False)
    return empty.arg_true().to_numpy().astype(np.int64)


def _failing_line(
    raw: pa.Array, schema: pa.Schema, lo: int, hi: int, exc: pa.ArrowInvalid
) -> tuple[int | None, Exception]:
    """(line of `lo:hi` that fails to read alone, its error), or (None, exc) when unknown.

    The reader names the failing row, which is the failing line unless a line before
    it held several objects: the named line is read alone to confirm it.
    """
    if hi - lo == 1:
        return lo, exc
    hint = _ROW_HINT.search(str(exc))
    row = lo + int(hint.group(1)) if hint else -1
    if not lo <= row < hi:
        return None, exc
    try:
        alone = read_table(raw.slice(row, 1), schema)
    except pa.ArrowInvalid as error:
        return row, error
    if alone.num_rows != 1:
        return row, pa.ArrowInvalid(_SEVERAL)
    return None, exc


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
    needs = body.str.contains(NEEDS_QUOTING).fill_null(False)
    if not needs.any():
        return body
    fixed = body.filter(needs).str.replace_all(pattern, '${1}"${2}"')
    return body.clone().scatter(needs.arg_true(), fixed)
