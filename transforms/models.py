"""Sources and models: the only place a data path or a SQL file name is resolved.

Sources are registered once per DuckDB connection under fixed names
(`src_edge_requests`, `src_minute_rollups`, `src_path_templates`, `run_params`);
models are the files of `sql/`, built by name (`build(con, "marts/cdn_offload")`),
each wrapped in `create or replace view|table <file name> as ...`. Runtime values
reach SQL only through the registered `run_params` relation, never through text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from ingest.schema import CANONICAL_SCHEMA
from ingest.storage import Location

RAW_DIR = "raw"
ROLLUP_DIR = "rollups/offload_minute"
MANIFEST_NAME = "_manifest.json"
# The types DuckDB infers for hive keys of local files; remote datasets use the same.
PARTITION_FIELDS = pa.schema([("dt", pa.date32()), ("hour", pa.int32())])

_PACKAGE_DIR = Path(__file__).resolve().parent
# A source checkout keeps SQL in ./sql; the wheel ships it as transforms/_sql.
SQL_DIR = next(
    (p for p in (_PACKAGE_DIR.parent / "sql", _PACKAGE_DIR / "_sql") if p.is_dir()),
    _PACKAGE_DIR.parent / "sql",
)
_MODEL_NAME = re.compile(r"^(staging|intermediate|marts|checks)/[a-z][a-z0-9_]*$")
_PARTITION = re.compile(r"/dt=(\d{4}-\d{2}-\d{2})/hour=(\d{2})/")


@dataclass(frozen=True)
class PartitionFile:
    """One Parquet file of a dt/hour partition, with what identifies its version."""

    path: str
    dt: str
    hour: str
    size: int
    mtime_ns: int

    @property
    def partition(self) -> tuple[str, str]:
        return (self.dt, self.hour)


def partition_of(relative_path: str) -> tuple[str, str] | None:
    """(dt, hour) of a file path relative to a partitioned root, or None."""
    match = _PARTITION.search("/" + relative_path.lstrip("/"))
    return (match[1], match[2]) if match else None


def raw_location(data: Location) -> Location:
    return data.join(RAW_DIR)


def rollup_location(data: Location) -> Location:
    return data.join(ROLLUP_DIR)


def partition_files(location: Location) -> list[PartitionFile]:
    """Parquet files below `location` in dt=/hour= partitions; temporary files excluded."""
    files = location.parquet_files()
    if not files:
        return []
    found = []
    for info in location.fs.get_file_info(files):
        match = _PARTITION.search(info.path[len(location.path) :])
        if match is None:
            continue
        mtime = info.mtime_ns if info.mtime_ns is not None else 0
        found.append(PartitionFile(info.path, match[1], match[2], info.size or 0, mtime))
    return found


def connect() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection with the session settings models assume."""
    con = duckdb.connect()
    # date_trunc and minute arithmetic must not depend on the host's time zone.
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    return con


def _register_parquet(
    con: duckdb.DuckDBPyConnection,
    name: str,
    location: Location,
    files: list[str],
    schema: pa.Schema,
) -> None:
    if not files:
        empty = pa.schema(list(schema) + list(PARTITION_FIELDS)).empty_table()
        con.register(name, empty)
    elif location.is_local:
        # DuckDB's own reader is several times faster than scanning an Arrow dataset.
        con.read_parquet(files, hive_partitioning=True).create_view(name, replace=True)
    else:
        partitioning = ds.partitioning(PARTITION_FIELDS, flavor="hive")
        dataset = ds.dataset(
            files,
            schema=pa.schema(list(schema) + list(PARTITION_FIELDS)),
            filesystem=location.fs,
            format="parquet",
            partitioning=partitioning,
            partition_base_dir=location.path,
        )
        con.register(name, dataset)


def register_edge_requests(
    con: duckdb.DuckDBPyConnection,
    data: Location,
    partitions: Iterable[tuple[str, str]] | None = None,
) -> list[PartitionFile]:
    """Register raw canonical rows as `src_edge_requests`, limited to `partitions` if given.

    Returns:
        The raw files registered.
    """
    raw = raw_location(data)
    files = partition_files(raw)
    if partitions is not None:
        wanted = set(partitions)
        files = [f for f in files if f.partition in wanted]
    _register_parquet(con, "src_edge_requests", raw, [f.path for f in files], CANONICAL_SCHEMA)
    return files


def register_minute_rollups(
    con: duckdb.DuckDBPyConnection,
    data: Location,
    schema: pa.Schema,
    partitions: Iterable[tuple[str, str]] | None = None,
) -> list[PartitionFile]:
    """Register stored minute rollups as `src_minute_rollups`; returns the files registered."""
    location = rollup_location(data)
    files = partition_files(location)
    if partitions is not None:
        wanted = set(partitions)
        files = [f for f in files if f.partition in wanted]
    _register_parquet(con, "src_minute_rollups", location, [f.path for f in files], schema)
    return files


def register_model_as_source(con: duckdb.DuckDBPyConnection, model: str, source: str) -> None:
    """Expose an already built model under a source name (raw rollup read as stored rollup)."""
    con.table(_relation(model)).create_view(source, replace=True)


def register_table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Register an in-memory Arrow table (run parameters, path templates) under `name`."""
    con.register(name, table)


def register_run_params(
    con: duckdb.DuckDBPyConnection, params: Mapping[str, Any], schema: pa.Schema
) -> None:
    """Register the one-row `run_params` relation that carries every runtime value."""
    row = {field.name: [params.get(field.name)] for field in schema}
    con.register("run_params", pa.table(row, schema=schema))


def sql_text(model: str) -> str:
    """The SQL of `model` ("layer/name"), as written in its file."""
    if not _MODEL_NAME.match(model):
        raise ValueError(f"not a model name: {model!r}")
    return (SQL_DIR / f"{model}.sql").read_text(encoding="utf-8")


def _relation(model: str) -> str:
    return model.rsplit("/", 1)[-1]


def build(
    con: duckdb.DuckDBPyConnection, model: str, materialize: Literal["view", "table"] = "view"
) -> str:
    """Create (or replace) `model` as a view or table named after its file; returns that name."""
    name = _relation(model)
    kind = "table" if materialize == "table" else "view"
    # The relation name comes from the validated file name, never from user input.
    con.execute(f"create or replace {kind} {name} as\n{sql_text(model)}")
    return name


def check_names() -> list[str]:
    """Every `checks/assert_*` model, sorted."""
    return sorted(f"checks/{p.stem}" for p in (SQL_DIR / "checks").glob("assert_*.sql"))


def run_check(con: duckdb.DuckDBPyConnection, check: str) -> pa.Table:
    """Rows breaking the rule `check` states; an empty table means the check passed."""
    return con.sql(sql_text(check)).to_arrow_table()
