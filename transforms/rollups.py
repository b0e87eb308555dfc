"""Stored minute rollups: built in batch (DuckDB) or kept up to date incrementally (Polars).

Layout: `DATA_DIR/rollups/offload_minute/dt=YYYY-MM-DD/hour=HH/part-0.parquet`, one
file per raw partition hour, plus `_manifest.json` listing the raw files (size and
modification time) each partition was computed from and the settings fingerprint.
Both writers produce byte-for-byte the same rows for the same raw files.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ingest.schema import CANONICAL_SCHEMA
from ingest.storage import Location
from transforms import models
from transforms.config import TransformSettings
from transforms.errors import RollupError
from transforms.rollup_live import RAW_COLUMNS, rollup_hour
from transforms.rollup_schema import (
    ROLLUP_KEYS,
    ROLLUP_VERSION,
    RUN_PARAMS_SCHEMA,
    partitioned_schema,
)
from transforms.templating import OTHER_TEMPLATE, template_paths

log = logging.getLogger(__name__)
Partition = tuple[str, str]


@dataclass(frozen=True)
class RollupRun:
    """What a rollup run did: partitions rewritten and removed, raw files covered."""

    rewritten: list[Partition]
    removed: list[Partition]
    raw_files: int


def run_params(
    settings: TransformSettings,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> dict[str, object]:
    """The `run_params` row for `settings` and an optional [start, end) window."""
    return {
        "window_start": window_start,
        "window_end": window_end,
        "threshold": settings.threshold,
        "min_requests": float(settings.min_requests),
        "p1_min_origin_share": settings.p1_min_origin_share,
        "p2_min_origin_share": settings.p2_min_origin_share,
        "max_templates_per_host": settings.max_templates_per_host,
        "other_template": OTHER_TEMPLATE,
    }


def build_request_rollup(con: duckdb.DuckDBPyConnection, settings: TransformSettings) -> str:
    """Build `int_requests_rolled_up_to_minute` from the registered `src_edge_requests`.

    These are the request measures offload analytics needs. `run_params` must be
    registered. Returns the relation name.
    """
    models.build(con, "staging/stg_edge_requests")
    paths = con.table(models.build(con, "intermediate/int_paths_deduplicated")).pl()
    templates = template_paths(paths["path"], settings.template_rules)
    models.register_table(con, "src_path_templates", templates.to_arrow())
    models.build(con, "staging/stg_path_templates")
    models.build(con, "intermediate/int_requests_templated")
    models.build(con, "intermediate/int_requests_aggregated_to_template", "table")
    models.build(con, "intermediate/int_templates_ranked", "table")
    return models.build(con, "intermediate/int_requests_rolled_up_to_minute", "table")


def build_stored_rollup(con: duckdb.DuckDBPyConnection, settings: TransformSettings) -> str:
    """Build `int_minute_rollups_assembled`: request measures plus objects and latency."""
    build_request_rollup(con, settings)
    models.build(con, "intermediate/int_objects_counted_per_template")
    return models.build(con, "intermediate/int_minute_rollups_assembled")


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by([(k, "ascending", "at_start") for k in ROLLUP_KEYS])


def _makedirs(location: Location) -> None:
    # Object stores have no directories (S3 would get empty marker objects); other
    # filesystems need the parents before a file can be written.
    if not isinstance(location.fs, pafs.S3FileSystem):
        location.fs.create_dir(location.path, recursive=True)


def _write_partition(target: Location, dt: str, hour: str, table: pa.Table | None) -> None:
    """Replace one partition's rollup file atomically (temp name, then move).

    A None or empty table deletes the partition's files instead.

    Raises:
        RollupError: the storage refused the write (transient: retry the run).
    """
    if table is not None and table.num_rows == 0:
        table = None
    part = target.join(f"dt={dt}", f"hour={hour}")
    final = part.join("part-0.parquet").path
    try:
        old = part.parquet_files()
        if table is not None:
            _makedirs(part)
            tmp = part.join(f".tmp-{uuid.uuid4().hex}.parquet").path
            pq.write_table(
                table.drop_columns(["dt", "hour"]), tmp, filesystem=target.fs, compression="zstd"
            )
            target.fs.move(tmp, final)
        for path in old:
            if path != final or table is None:
                target.fs.delete_file(path)
    except OSError as exc:
        raise RollupError(part.uri, str(exc)) from exc


def _write_manifest(
    target: Location,
    settings: TransformSettings,
    files: Iterable[models.PartitionFile],
    raw: Location,
) -> None:
    document = {
        "version": ROLLUP_VERSION,
        "fingerprint": settings.rollup_fingerprint(),
        "files": {f.path[len(raw.path) :].lstrip("/"): [f.size, f.mtime_ns] for f in files},
    }
    _makedirs(target)
    tmp = target.join(f".tmp-{uuid.uuid4().hex}.json").path
    with target.fs.open_output_stream(tmp) as out:
        out.write(json.dumps(document, sort_keys=True).encode())
    target.fs.move(tmp, target.join(models.MANIFEST_NAME).path)


def _read_manifest(target: Location) -> dict[str, object]:
    path = target.join(models.MANIFEST_NAME).path
    if target.fs.get_file_info(path).type == pafs.FileType.NotFound:
        return {}
    try:
        with target.fs.open_input_stream(path) as fh:
            return dict(json.loads(fh.read()))
    except ValueError:
        # Rollups can always be recomputed: a damaged manifest only means "rebuild".
        log.warning(
            "Rollup manifest is unreadable; every hour will be recomputed.", extra={"path": path}
        )
        return {}


def _dirty_partitions(
    data: Location, settings: TransformSettings
) -> tuple[set[Partition], list[models.PartitionFile]]:
    """Partitions whose raw files differ from the manifest, and the current raw files."""
    raw = models.raw_location(data)
    target = models.rollup_location(data)
    current = models.partition_files(raw)
    manifest = _read_manifest(target)
    stored = {f.partition for f in models.partition_files(target)}
    if (
        manifest.get("version") != ROLLUP_VERSION
        or manifest.get("fingerprint") != settings.rollup_fingerprint()
    ):
        return {f.partition for f in current} | stored, current
    seen: dict[Partition, set[tuple[str, int, int]]] = defaultdict(set)
    for f in current:
        seen[f.partition].add((f.path[len(raw.path) :].lstrip("/"), f.size, f.mtime_ns))
    recorded: dict[Partition, set[tuple[str, int, int]]] = defaultdict(set)
    files = manifest.get("files", {})
    assert isinstance(files, dict)
    for rel, (size, mtime) in files.items():
        match = models.partition_of(rel)
        if match is not None:
            recorded[match].add((rel, size, mtime))
    dirty = {p for p in set(seen) | set(recorded) if seen.get(p) != recorded.get(p)}
    return dirty | (stored - set(seen)), current


def _read_raw(raw: Location, paths: list[str]) -> pl.DataFrame | pa.Table:
    """The columns the rollup needs from `paths`; Polars' own reader where files are local."""
    if raw.is_local:
        return pl.read_parquet(paths, columns=RAW_COLUMNS, hive_partitioning=False)
    dataset = ds.dataset(paths, schema=CANONICAL_SCHEMA, filesystem=raw.fs, format="parquet")
    return dataset.to_table(columns=RAW_COLUMNS)


def rollups_fresh(data: Location, settings: TransformSettings) -> bool:
    """True when stored rollups cover exactly the current raw files under the current settings."""
    dirty, current = _dirty_partitions(data, settings)
    return not dirty and bool(current)


def update_rollups(data: Location, settings: TransformSettings) -> RollupRun:
    """Recompute, with Polars, only the partition hours whose raw files changed (the live path).

    Idempotent: a run interrupted midway is completed by the next one.
    """
    raw = models.raw_location(data)
    target = models.rollup_location(data)
    dirty, current = _dirty_partitions(data, settings)
    by_partition: dict[Partition, list[models.PartitionFile]] = defaultdict(list)
    for f in current:
        by_partition[f.partition].append(f)
    rewritten, removed = [], []
    for dt, hour in sorted(dirty):
        files = by_partition.get((dt, hour), [])
        if not files:
            _write_partition(target, dt, hour, None)
            removed.append((dt, hour))
            continue
        table = rollup_hour(_read_raw(raw, [f.path for f in files]), dt, hour, settings)
        _write_partition(target, dt, hour, _sorted(table))
        rewritten.append((dt, hour))
        log.info("Rolled up partition.", extra={"dt": dt, "hour": hour, "files": len(files)})
    _write_manifest(target, settings, current, raw)
    return RollupRun(rewritten, removed, len(current))


def rollup_with_duckdb(
    data: Location, settings: TransformSettings
) -> tuple[pa.Table, list[models.PartitionFile]]:
    """The batch rollup of every raw file (dt/hour columns included) and the files it read."""
    con = models.connect()
    try:
        files = models.register_edge_requests(con, data)
        models.register_run_params(con, run_params(settings), RUN_PARAMS_SCHEMA)
        name = build_stored_rollup(con, settings)
        table = con.table(name).to_arrow_table()
    finally:
        con.close()
    return _sorted(table.cast(partitioned_schema())), files


def rebuild_rollups(data: Location, settings: TransformSettings) -> RollupRun:
    """Recompute every rollup partition from scratch with DuckDB (the batch path)."""
    target = models.rollup_location(data)
    table, files = rollup_with_duckdb(data, settings)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    partitions = sorted({f.partition for f in files})
    parts = {
        (str(key[0]), str(key[1])): part.to_arrow().cast(partitioned_schema())
        for key, part in frame.partition_by(["dt", "hour"], as_dict=True).items()
    }
    for dt, hour in partitions:
        _write_partition(target, dt, hour, parts.get((dt, hour)))
    removed = sorted({f.partition for f in models.partition_files(target)} - set(partitions))
    for dt, hour in removed:
        _write_partition(target, dt, hour, None)
    _write_manifest(target, settings, files, models.raw_location(data))
    return RollupRun(partitions, removed, len(files))
