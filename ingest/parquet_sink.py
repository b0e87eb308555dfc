"""Canonical rows and quarantined records to Parquet, atomically and idempotently.

Raw rows land in `raw/dt=YYYY-MM-DD/hour=HH/<stem>.parquet` by event time;
quarantined records in `quarantine/<kind>/<stem>.parquet`. The caller supplies the
stem from the source position (file content hash and chunk, or Kafka topic, partition
and offset range), so writing the same input again replaces the same files instead of
adding rows. Local files are written under a dot-prefixed temporary name, fsynced and
renamed; S3 puts are atomic by themselves. Readers ignore dot-prefixed names.
"""

from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.errors import SinkError
from ingest.schema import CANONICAL_SCHEMA
from ingest.storage import Location

RAW_DIR = "raw"
QUARANTINE_DIR = "quarantine"


@dataclass
class WriteStats:
    files: list[str] = field(default_factory=list)
    rows: int = 0
    quarantined: int = 0


# Min/max statistics only where readers prune on them (time windows, vendor, POP,
# status, cache result, Kafka lineage): statistics of long free-text columns (paths,
# user agents, request ids) cost ~10% of write time and prune nothing.
STATISTICS_COLUMNS = (
    *("event_time", "cdn", "source_format", "pop", "host", "method", "status"),
    *("cache_status", "served_from_cache", "origin_request", "cache_tier"),
    *("is_viewer_request", "incomplete", "_source_partition", "_source_offset"),
)
# Nearly unique per row (ids, byte counts, durations, line numbers): a dictionary is
# built, found useless and dropped on every page. Plain is faster and no larger.
NO_DICTIONARY = frozenset(
    {"request_id", "bytes_sent", "body_bytes", "request_bytes", "time_taken_ms", "ttfb_ms"}
)
# Lineage positions grow by one from row to row: deltas encode them in a few bits.
DELTA_COLUMNS = ("_source_line", "_source_offset")


def _options(table: pa.Table) -> dict[str, object]:
    """Parquet writer options for canonical rows (other tables keep the defaults)."""
    if table.schema != CANONICAL_SCHEMA:
        return {}
    plain = NO_DICTIONARY.union(DELTA_COLUMNS)
    return {
        "write_statistics": list(STATISTICS_COLUMNS),
        "use_dictionary": [name for name in table.column_names if name not in plain],
        "column_encoding": dict.fromkeys(DELTA_COLUMNS, "DELTA_BINARY_PACKED"),
    }


def _write_atomic(table: pa.Table, target: Location, compression: str, row_group_size: int) -> None:
    options = _options(table)
    parent = target.path.rsplit("/", 1)[0]
    name = target.path.rsplit("/", 1)[1]
    try:
        if target.is_local:
            os.makedirs(parent, exist_ok=True)
            tmp = f"{parent}/.{name}.{uuid.uuid4().hex}.tmp"
            try:
                pq.write_table(
                    table, tmp, compression=compression, row_group_size=row_group_size, **options
                )
                fd = os.open(tmp, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(tmp, target.path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            dir_fd = os.open(parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        else:
            pq.write_table(
                table,
                target.path,
                filesystem=target.fs,
                compression=compression,
                row_group_size=row_group_size,
                **options,
            )
    except (OSError, pa.ArrowException) as exc:
        raise SinkError(target.uri, str(exc)) from exc


def hour_partitions(rows: pa.Table) -> list[tuple[str, str, pa.Table]]:
    """Split rows by UTC date and hour of `event_time`: [(dt, hour, rows)], sorted.

    Rows keep their input order inside each part. A batch within one hour, the usual
    case for live traffic, is returned as is, without a copy.
    """
    if rows.num_rows == 0:
        return []
    if rows.schema != CANONICAL_SCHEMA:
        rows = rows.cast(CANONICAL_SCHEMA)
    millis = rows.column("event_time").cast(pa.int64()).to_numpy()
    hours = millis // 3_600_000
    first = int(hours[0])
    if (hours == first).all():
        return [(*_hour_label(first), rows)]
    order = np.argsort(hours, kind="stable")
    ordered = hours[order]
    cuts = np.flatnonzero(np.diff(ordered)) + 1
    bounds = [0, *cuts.tolist(), len(ordered)]
    return [
        (*_hour_label(int(ordered[a])), rows.take(pa.array(order[a:b])))
        for a, b in itertools.pairwise(bounds)
    ]


def _hour_label(hours_since_epoch: int) -> tuple[str, str]:
    start = datetime.fromtimestamp(hours_since_epoch * 3600, tz=UTC)
    return start.strftime("%Y-%m-%d"), start.strftime("%H")


class ParquetSink:
    """Writes canonical rows and quarantine records below one data location."""

    def __init__(
        self, data: Location, *, compression: str = "zstd", row_group_size: int = 256_000
    ) -> None:
        self.data = data
        self.compression = compression
        self.row_group_size = row_group_size
        data.makedirs()

    def write_rows(self, rows: pa.Table, stem: str) -> list[str]:
        """Write `rows` as one file per (dt, hour) named `<stem>.parquet`; returns their URIs.

        Raises:
            SinkError: a file could not be written; nothing of this call may be acknowledged.
        """
        written = []
        for dt, hour, part in hour_partitions(rows):
            target = self.data.join(RAW_DIR, f"dt={dt}", f"hour={hour}", f"{stem}.parquet")
            _write_atomic(part, target, self.compression, self.row_group_size)
            written.append(target.uri)
        return written

    def write_quarantine(self, rejects: pa.Table, kind: str, stem: str) -> list[str]:
        """Write quarantined records to `quarantine/<kind>/<stem>.parquet` (nothing if empty)."""
        if rejects.num_rows == 0:
            return []
        target = self.data.join(QUARANTINE_DIR, kind, f"{stem}.parquet")
        _write_atomic(rejects, target, self.compression, self.row_group_size)
        return [target.uri]
