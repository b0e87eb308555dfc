"""JSON lines whose numbers and booleans may be bare or quoted, read as their text.

Vendors write the same field as `200` in one line and `"200"` in the next, so parsers
declare such keys as strings and `json_lines.quote_scalars` quotes bare values before
reading. Quoting is a regex pass over every line, slower than the JSON read itself.
`read_scalar_lines` gives the same result without it for the common batch, where a
key is written the same way in every line: it reads the batch as it is, with each key
typed as the batch's first lines show it (integers and booleans, cast back to text,
which is exact for them), and falls back to quoting plus per-line isolation only when
that read fails or could differ (bad lines, mixed quoting, fractions, `-0`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import polars as pl
import pyarrow as pa

from ingest.json_lines import JsonLines, quote_scalars, read_json_lines, read_table, scalar_pattern

_SAMPLE_LINES = 256
# Blocks of a few MB parse faster than one big block (cache locality).
_FAST_BLOCK = 4 << 20
# A line whose first JSON value is `null`, or one holding only JSON white space: a
# block starting there would crash pyarrow (see json_lines.read_table).
_NULL_LED = r"^[ \t\r]*(?:null|$)"
# `-0` (int64 reads it back as "0"), or white space between a key's closing quote and
# its colon: quote_scalars leaves a line unquoted unless some scalar follows `":`.
_TYPING_DIFFERS = r'"[ \t\r]|-0[\s,}\]]'
_TYPE_CHANGE = re.compile(r"Column\(/([^)]*)\) changed from string to (number|boolean)")

Path = tuple[str, ...]


def read_scalar_lines(
    raw: pa.Array | pa.ChunkedArray,
    schema: pa.Schema,
    keys: Sequence[str],
    *,
    either_case: bool = False,
) -> JsonLines:
    """`read_json_lines` of `quote_scalars(raw, scalar_pattern(keys, either_case))`.

    Same result, usually without the quoting pass. `schema` declares the `keys` as
    strings; a key matches at any depth, as the quoting regex does.
    """
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    text = pl.Series(raw.cast(pa.large_string()))
    table = _read_unquoted(raw, text, schema, _key_names(keys, either_case))
    if table is not None:
        n = len(raw)
        empty = np.empty(0, dtype=np.int64)
        return JsonLines(table.cast(schema), np.arange(n, dtype=np.int64), empty, [], [])
    body = quote_scalars(text, scalar_pattern(keys, either_case=either_case))
    return read_json_lines(body.to_arrow(), schema)


def read_aligned(
    body: pl.Series | pa.Array | pa.ChunkedArray,
    schema: pa.Schema,
    keys: Sequence[str] = (),
    *,
    either_case: bool = False,
) -> pl.DataFrame:
    """One row per value of `body`: the `schema` columns (null for bad lines), `_reason`, `_detail`.

    With `keys`, bare numbers and booleans under those keys read as their text, as if
    quoted by `quote_scalars` (see `read_scalar_lines`).
    """
    raw = body.to_arrow() if isinstance(body, pl.Series) else body
    if keys:
        parsed = read_scalar_lines(raw, schema, keys, either_case=either_case)
    else:
        parsed = read_json_lines(raw, schema)
    n = len(raw)
    if parsed.bad_index.size == 0:
        fields = pl.from_arrow(parsed.table)
        assert isinstance(fields, pl.DataFrame)
        nothing = pl.lit(None, dtype=pl.String)
        return fields.with_columns(nothing.alias("_reason"), nothing.alias("_detail"))
    pos = np.full(n, -1, dtype=np.int64)
    pos[parsed.index] = np.arange(parsed.index.size)
    fields = pl.from_arrow(parsed.table.take(pa.array(pos, mask=pos < 0)))
    assert isinstance(fields, pl.DataFrame)
    nulls = pl.repeat(None, n, dtype=pl.String, eager=True)
    return fields.with_columns(
        nulls.scatter(parsed.bad_index, parsed.bad_reason).alias("_reason"),
        nulls.clone().scatter(parsed.bad_index, parsed.bad_detail).alias("_detail"),
    )


def _key_names(keys: Sequence[str], either_case: bool) -> frozenset[str]:
    if not either_case:
        return frozenset(keys)
    return frozenset(n for k in keys for n in (k[0].lower() + k[1:], k[0].upper() + k[1:]))


def _read_unquoted(
    raw: pa.Array, text: pl.Series, schema: pa.Schema, names: frozenset[str]
) -> pa.Table | None:
    """The batch read without quoting, or None when only the exact path can read it.

    Keys the sample lines do not show are typed when the reader first meets them bare
    (one retry each); a key the sample shows as a string must stay one.
    """
    if len(raw) == 0:
        return None
    plan = _sample_plan(raw, schema, names)
    if plan is None:
        return None
    typed, unseen = plan
    block = None if text.str.contains(_NULL_LED).any() else _FAST_BLOCK
    checked = False
    for _ in range(len(unseen) + 1):
        if not checked and not typed.equals(schema):
            if text.str.contains(_TYPING_DIFFERS).any():
                return None
            checked = True
        try:
            table = read_table(raw, typed, block)
        except pa.ArrowInvalid as exc:
            retyped = _retype(typed, unseen, str(exc))
            if retyped is None:
                return None
            typed = retyped
            continue
        # A line holding several objects changes the row count: the exact path finds it.
        return table if table.num_rows == len(raw) else None
    return None


def _sample_plan(
    raw: pa.Array, schema: pa.Schema, names: frozenset[str]
) -> tuple[pa.Schema, set[Path]] | None:
    """(`schema` with keys typed as the first lines show them, key paths they do not show).

    None when the sample does not parse, or shows a key holding a value that no fast
    read returns exactly (a fraction, an exponent, an object): the exact path then.
    """
    try:
        sample = read_table(raw.slice(0, _SAMPLE_LINES), None).schema
    except pa.ArrowInvalid:
        return None  # a bad or mixed sample: the batch needs the exact path anyway
    unseen: set[Path] = set()
    fields = []
    for field in schema:
        index = sample.get_field_index(field.name)
        seen = sample.field(index).type if index >= 0 else None
        typed = _typed(field, seen, names, (field.name,), unseen)
        if typed is None:
            return None
        fields.append(typed)
    return pa.schema(fields), unseen


def _typed(
    field: pa.Field,
    seen: pa.DataType | None,
    names: frozenset[str],
    path: Path,
    unseen: set[Path],
) -> pa.Field | None:
    """`field` with its key-named string leaves typed as seen; unseen key leaves noted."""
    if pa.types.is_struct(field.type):
        if seen is not None and not pa.types.is_null(seen) and not pa.types.is_struct(seen):
            return None
        struct = seen if seen is not None and pa.types.is_struct(seen) else None
        children = []
        for child in field.type:
            index = struct.get_field_index(child.name) if struct is not None else -1
            inner = struct.field(index).type if struct is not None and index >= 0 else None
            typed = _typed(child, inner, names, (*path, child.name), unseen)
            if typed is None:
                return None
            children.append(typed)
        return field.with_type(pa.struct(children))
    if field.name not in names or not pa.types.is_string(field.type):
        return field
    if seen is None or pa.types.is_null(seen):
        unseen.add(path)
        return field
    if pa.types.is_integer(seen):
        return field.with_type(pa.int64())
    if pa.types.is_boolean(seen):
        return field.with_type(pa.bool_())
    if pa.types.is_string(seen) or pa.types.is_timestamp(seen):
        return field
    return None


def _retype(schema: pa.Schema, unseen: set[Path], message: str) -> pa.Schema | None:
    """`schema` with the unseen key the reader found bare typed (int64 or bool), else None."""
    found = _TYPE_CHANGE.search(message)
    if found is None:
        return None
    path = tuple(found.group(1).split("/"))
    if path not in unseen:
        return None
    unseen.discard(path)
    leaf = pa.int64() if found.group(2) == "number" else pa.bool_()
    return pa.schema([_with_leaf(f, path[1:], leaf) if f.name == path[0] else f for f in schema])


def _with_leaf(field: pa.Field, rest: Path, leaf: pa.DataType) -> pa.Field:
    if not rest:
        return field.with_type(leaf)
    children = [_with_leaf(c, rest[1:], leaf) if c.name == rest[0] else c for c in field.type]
    return field.with_type(pa.struct(children))
