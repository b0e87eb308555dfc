"""JSON lines read as text fields: DuckDB's JSON reader, with per-line failure isolation.

Vendors write the same field as `200` in one line and `"200"` in the next, so every
field is read as text: a string as its value, a bare number or boolean as its JSON
text (also where the vendor documents a string). `read_aligned` reads a whole batch in
one DuckDB `json_transform` call (yyjson; on one core with an explicit schema, measured
on Akamai lines: 1.4 us/line into Polars, against 2.5 for Polars' NDJSON reader and 3.9
for pyarrow's) and sends only the lines that call cannot answer exactly to the exact
reader, `json_lines.read_json_lines` over `quote_scalars` text, which gives them their
reason:

- text that is not JSON (DuckDB fails the call; it is repeated under `try`, which nulls
  just those lines), or a line not starting with `{` (an array, a string, `null`);
- a value that is an object or array where the schema expects text, or anything but an
  object where it expects an object (DuckDB would give the object's text, or an empty
  object): every text starting with `{` or `[`, and every all-null object, is checked.

A clean batch pays none of this. Decisions where DuckDB and the exact reader differ on
a line that reaches DuckDB only (documented, not checked, as each check would cost a
scan of every line):
- a key repeated in one object reads its first value (the exact reader rejected the line);
- a trailing comma, or a NaN/Infinity literal, is accepted (yyjson allows them);
- a bare number reads as the text of its value: integers as written, fractions in
  shortest round-trip form (`2.50` -> `2.5`, `1e3` -> `1000.0`, `-0` -> `0`).
Keys differing only in case (Azure's camelCase and PascalCase) cannot share one DuckDB
struct: the later spellings are read by further calls, only for lines where no earlier
spelling holds a value and the later key's text occurs (a later spelling shadowed by
an earlier one is neither read nor checked).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from ingest.json_lines import quote_scalars, read_json_lines, scalar_pattern

Path = tuple[str, ...]
_LOCAL = threading.local()


@dataclass(frozen=True)
class _Plan:
    """How to read one schema: DuckDB structures, one per spelling of case-variant keys."""

    schema: pa.Schema
    structures: tuple[str, ...]  # json_transform structure per pass (JSON text)
    # Per pass after the first: (leaf path, earlier spellings of the same key).
    alternates: tuple[tuple[tuple[Path, tuple[Path, ...]], ...], ...]
    text_leaves: tuple[Path, ...]  # every string leaf
    quoting: str  # quote_scalars pattern over every leaf name
    # Expressions built once (building them costs more than running them on a batch).
    unset: tuple[tuple[pl.Expr, ...], ...]  # per later pass: no earlier spelling has a value
    in_order: tuple[pl.Expr, ...]  # the schema's columns and fields, in its order
    # Checks over every leaf, and over first spellings only (when no later one was read).
    not_objects: tuple[pl.Expr | None, pl.Expr | None]  # object field read from something else
    nested_text: tuple[pl.Expr, pl.Expr]  # text that starts like a JSON object or array


def read_aligned(body: pl.Series | pa.Array | pa.ChunkedArray, schema: pa.Schema) -> pl.DataFrame:
    """One row per value of `body`: the `schema` columns (null for bad lines), `_reason`, `_detail`.

    `schema` holds string leaves, possibly inside structs. Absent keys are null, keys
    not in `schema` are ignored, numbers and booleans read as their JSON text. A value
    that is not one JSON object, or whose value has the wrong shape for `schema`, has
    null fields and a `Reason` in `_reason` (detail from the exact reader).
    """
    if isinstance(body, pl.Series):
        text = body.alias("raw")
        raw = body.to_arrow(compat_level=pl.CompatLevel.newest())  # string views: no copy
    else:
        raw = body.combine_chunks() if isinstance(body, pa.ChunkedArray) else body
        text = pl.Series("raw", raw)
    plan = _plan(schema)
    nothing = pl.lit(None, dtype=pl.String)
    if len(raw) == 0:
        empty = pl.from_arrow(schema.empty_table())
        assert isinstance(empty, pl.DataFrame)
        return empty.with_columns(nothing.alias("_reason"), nothing.alias("_detail"))
    fields, failed = _transform(raw, plan.structures[0])
    later_read = False
    if len(plan.structures) > 1:
        for structure, alternates, unset in zip(
            plan.structures[1:], plan.alternates, plan.unset, strict=True
        ):
            fields, read = _read_alternates(fields, text, structure, alternates, unset)
            later_read = later_read or read
        fields = fields.select(plan.in_order)
    suspect = _suspects(fields, failed, text, plan, 0 if later_read else 1)
    if not suspect.any():
        return fields.with_columns(nothing.alias("_reason"), nothing.alias("_detail"))
    return _exact_rows(fields, text, suspect, plan)


@cache
def _plan(schema: pa.Schema) -> _Plan:
    passes: list[dict[str, object]] = [{}]
    alternates: list[list[tuple[Path, tuple[Path, ...]]]] = [[]]
    _add_level(schema, (), passes, alternates)
    leaves = list(_leaves(schema, ()))
    for path, typ in leaves:
        if not pa.types.is_string(typ) and not pa.types.is_large_string(typ):
            raise ValueError(f"read_aligned reads text leaves only, not {'.'.join(path)}: {typ}")
    text_leaves = tuple(path for path, _ in leaves)
    later = tuple(tuple(a) for a in alternates[1:])
    shadowed = {path for a in later for path, _ in a}
    first = tuple(path for path in text_leaves if path not in shadowed)
    return _Plan(
        schema=schema,
        structures=tuple(json.dumps(p) for p in passes),
        alternates=later,
        text_leaves=text_leaves,
        quoting=scalar_pattern(sorted({path[-1] for path, _ in leaves})),
        unset=tuple(
            tuple(pl.all_horizontal([_column(p).is_null() for p in earlier]) for _, earlier in a)
            for a in later
        ),
        in_order=tuple(_in_order(schema, ())),
        not_objects=(_not_objects(schema, text_leaves), _not_objects(schema, first)),
        nested_text=(_nested_text(text_leaves), _nested_text(first)),
    )


def _not_objects(schema: pa.Schema, leaves: tuple[Path, ...]) -> pl.Expr | None:
    """Some object field is present with none of its `leaves`: read from a non-object."""
    checks = [
        _column(o).is_not_null()
        & pl.all_horizontal([_column(leaf).is_null() for leaf in leaves if leaf[: len(o)] == o])
        for o in _objects(schema, ())
    ]
    return pl.any_horizontal(checks).fill_null(False) if checks else None


def _nested_text(leaves: tuple[Path, ...]) -> pl.Expr:
    """Some of the `leaves` holds text starting like a JSON object or array."""
    starts = [_column(p).str.starts_with("{") | _column(p).str.starts_with("[") for p in leaves]
    return pl.any_horizontal(starts).fill_null(False)


def _add_level(
    fields: pa.Schema | pa.StructType,
    prefix: Path,
    passes: list[dict[str, object]],
    alternates: list[list[tuple[Path, tuple[Path, ...]]]],
) -> None:
    """Spread `fields` over the passes: the n-th spelling of a key goes to pass n."""
    seen: dict[str, list[Path]] = {}
    for field in fields:
        path = (*prefix, field.name)
        spellings = seen.setdefault(field.name.lower(), [])
        rank = len(spellings)
        spellings.append(path)
        while len(passes) <= rank:
            passes.append({})
            alternates.append([])
        target = passes[rank]
        for part in prefix:
            nested = target.setdefault(part, {})
            assert isinstance(nested, dict)
            target = nested
        if pa.types.is_struct(field.type):
            if rank:
                raise ValueError(f"object keys differing only in case: {'.'.join(path)}")
            target[field.name] = {}
            _add_level(field.type, path, passes, alternates)
        else:
            target[field.name] = "VARCHAR"
            if rank:
                alternates[rank].append((path, tuple(spellings[:-1])))


def _leaves(fields: pa.Schema | pa.StructType, prefix: Path) -> Iterator[tuple[Path, pa.DataType]]:
    for field in fields:
        if pa.types.is_struct(field.type):
            yield from _leaves(field.type, (*prefix, field.name))
        else:
            yield (*prefix, field.name), field.type


def _objects(fields: pa.Schema | pa.StructType, prefix: Path) -> Iterator[Path]:
    for field in fields:
        if pa.types.is_struct(field.type):
            yield (*prefix, field.name)
            yield from _objects(field.type, (*prefix, field.name))


def _connection() -> duckdb.DuckDBPyConnection:
    """This thread's DuckDB connection, with as many threads as Polars may use.

    Kept for the next batch (opening one costs about 10 ms); a forked child opens its own.
    """
    if getattr(_LOCAL, "pid", None) != os.getpid():
        fresh = duckdb.connect(config={"threads": pl.thread_pool_size()})
        _LOCAL.con, _LOCAL.pid = fresh, os.getpid()
    con: duckdb.DuckDBPyConnection = _LOCAL.con
    return con


def _transform(raw: pa.Array, structure: str) -> tuple[pl.DataFrame, pl.Series | None]:
    """(`json_transform(raw, structure)` unnested, mask of the lines DuckDB could not read).

    The mask is None when every line was read (the common case: `try` costs time).
    """
    con = _connection()
    con.register("_json_lines", pa.table({"raw": raw}))
    try:
        try:
            query = "select json_transform(raw, $s) as j from _json_lines"
            got = con.sql(query, params={"s": structure}).pl()
            failed = None
        except duckdb.InvalidInputException:
            query = "select try(json_transform(raw, $s)) as j from _json_lines"
            got = con.sql(query, params={"s": structure}).pl()
            failed = got["j"].is_null()
    finally:
        con.unregister("_json_lines")
    return got.unnest("j"), failed


def _in_order(fields: pa.Schema | pa.StructType, prefix: Path) -> list[pl.Expr]:
    """Expressions giving `fields` (at `prefix`) in schema order, objects keeping their nulls."""
    out = []
    for field in fields:
        path = (*prefix, field.name)
        expr = _column(path)
        if pa.types.is_struct(field.type):
            expr = pl.when(expr.is_not_null()).then(pl.struct(_in_order(field.type, path)))
        out.append(expr.alias(field.name))
    return out


def _column(path: Path) -> pl.Expr:
    expr = pl.col(path[0])
    for part in path[1:]:
        expr = expr.struct.field(part)
    return expr


def _read_alternates(
    fields: pl.DataFrame,
    text: pl.Series,
    structure: str,
    alternates: tuple[tuple[Path, tuple[Path, ...]], ...],
    unset: tuple[pl.Expr, ...],
) -> tuple[pl.DataFrame, bool]:
    """(`fields` with the later spellings read where no earlier one holds a value, whether
    any line needed them)."""
    todo = pl.repeat(False, fields.height, eager=True)
    flags = fields.select(u.alias(str(i)) for i, u in enumerate(unset))
    for (path, _), flag in zip(alternates, flags.iter_columns(), strict=True):
        at = flag.arg_true()
        if at.len():
            found = text.gather(at).str.contains(f'"{path[-1]}"', literal=True)
            todo = todo.scatter(at.filter(found), True)
    rows = todo.arg_true()
    read = None
    if rows.len():  # usually not: a batch is written in one spelling
        subset = text.gather(rows).to_arrow(compat_level=pl.CompatLevel.newest())
        read = _transform(subset, structure)[0]
    top: list[pl.Series | pl.Expr] = []
    nested: dict[str, list[pl.Series | pl.Expr]] = {}
    for path, _ in alternates:
        column: pl.Series | pl.Expr = pl.lit(None, dtype=pl.String).alias(path[-1])
        if read is not None:
            column = pl.repeat(None, fields.height, dtype=pl.String, eager=True).alias(path[-1])
            column = column.scatter(rows, read.select(_column(path)).to_series())
        if len(path) == 1:
            top.append(column)
        elif len(path) == 2:
            nested.setdefault(path[0], []).append(column)
        else:
            raise ValueError(f"case-variant keys nested deeper than one object: {path}")
    objects = [pl.col(name).struct.with_fields(children) for name, children in nested.items()]
    return fields.with_columns(*top, *objects), read is not None


def _suspects(
    fields: pl.DataFrame, failed: pl.Series | None, text: pl.Series, plan: _Plan, leaves: int
) -> pl.Series:
    """Lines whose DuckDB reading may differ from the exact reader's.

    `leaves` picks the checks over every leaf (0) or over first spellings only (1).
    """
    brace = text.str.starts_with("{")
    if not brace.all():
        brace = brace | text.str.strip_chars_start().str.starts_with("{").fill_null(False)
    suspect = ~brace if failed is None else ~brace | failed
    # A line with no `{` but its first and no `[` holds no nested value: only lines
    # with some are checked for text that is an object's or array's JSON.
    nested = text.str.count_matches(r"[\[{]") > 1
    nested_text = plan.nested_text[leaves]
    if nested.any():
        if nested.all():
            suspect = suspect | fields.select(nested_text).to_series()
        else:
            hit = fields.filter(nested).select(nested_text).to_series()
            suspect = suspect | nested.clone().scatter(nested.arg_true(), hit)
    not_objects = plan.not_objects[leaves]
    if not_objects is not None:
        suspect = suspect | fields.select(not_objects).to_series()
    return suspect


def _exact_rows(
    fields: pl.DataFrame, text: pl.Series, suspect: pl.Series, plan: _Plan
) -> pl.DataFrame:
    """`fields` with the `suspect` lines replaced by the exact reader's rows and reasons."""
    rows = suspect.arg_true()
    body = quote_scalars(text.gather(rows), plan.quoting)
    exact = read_json_lines(body.to_arrow(), plan.schema)
    # Row of `exact.table` for each input line: null for good and for bad lines.
    where = np.full(fields.height, -1, dtype=np.int64)
    where[rows.to_numpy()[exact.index]] = np.arange(exact.index.size)
    at = pl.Series(pa.array(where, mask=where < 0))
    table = pl.from_arrow(exact.table)
    assert isinstance(table, pl.DataFrame)
    replaced = table.select(pl.all().gather(at))
    bad = rows.gather(pl.Series(exact.bad_index, dtype=pl.UInt32))
    reasons = pl.repeat(None, fields.height, dtype=pl.String, eager=True)
    details = pl.repeat(None, fields.height, dtype=pl.String, eager=True)
    return fields.select(
        *[pl.when(suspect).then(replaced[c]).otherwise(pl.col(c)).alias(c) for c in fields.columns],
        reasons.scatter(bad, exact.bad_reason).alias("_reason"),
        details.scatter(bad, exact.bad_detail).alias("_detail"),
    )
