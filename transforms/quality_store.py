"""Where data-quality inputs and outputs live, and how they are read and written.

- Canonical rows: `DATA_DIR/raw/dt=YYYY-MM-DD/hour=HH/*.parquet`, read in bounded
  batches (`raw_partitions`, `batches`).
- Validation results: `DATA_DIR/quality/validation-<run_id>.json` plus `latest.json`
  (`store_validation`, `latest_validation`).
- Quarantine: `DATA_DIR/quarantine/<kind>/*.parquet` (`quarantine_summary`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from ingest.parquet_sink import QUARANTINE_DIR, RAW_DIR
from ingest.records import QUARANTINE_SCHEMA
from ingest.schema import CANONICAL_SCHEMA, UTC_MS
from ingest.storage import Location, resolve

log = logging.getLogger(__name__)

QUALITY_DIR = "quality"
LATEST = "latest.json"
HOUR = timedelta(hours=1)
_PARTITION_RE = re.compile(r"^dt=(\d{4}-\d{2}-\d{2})/hour=([01]\d|2[0-3])/")


@dataclass(frozen=True)
class Partition:
    """One `dt=/hour=` partition: its hour [start, start + 1 h) and its Parquet files."""

    start: datetime
    files: tuple[str, ...]

    @property
    def end(self) -> datetime:
        return self.start + HOUR

    @property
    def key(self) -> str:
        return f"dt={self.start:%Y-%m-%d}/hour={self.start:%H}"


def raw_partitions(
    data: Location, start: datetime | None = None, end: datetime | None = None
) -> list[Partition]:
    """Partitions overlapping [start, end) (open bounds when None), oldest first.

    Files outside the `dt=/hour=` layout and names starting with '.' or '_' are ignored.
    """
    raw = data.join(RAW_DIR)
    by_hour: dict[datetime, list[str]] = {}
    for path in raw.parquet_files():
        match = _PARTITION_RE.match(path[len(raw.path) :].lstrip("/"))
        try:
            day = datetime.fromisoformat(match[1]).replace(tzinfo=UTC) if match else None
        except ValueError:  # dt=2025-02-30
            day = None
        if match and day:
            by_hour.setdefault(day + int(match[2]) * HOUR, []).append(path)
    return [
        Partition(hour, tuple(files))
        for hour, files in sorted(by_hour.items())
        if (start is None or hour + HOUR > start) and (end is None or hour < end)
    ]


def schema_problem(physical: pa.Schema) -> str | None:
    """What a file's schema lacks or types differently from CANONICAL_SCHEMA, else None."""
    missing = [f.name for f in CANONICAL_SCHEMA if f.name not in physical.names]
    wrong = [
        f"{f.name} {physical.field(f.name).type} (want {f.type})"
        for f in CANONICAL_SCHEMA
        if f.name in physical.names and not physical.field(f.name).type.equals(f.type)
    ]
    problems = [f"missing {', '.join(missing)}"] * bool(missing) + [
        f"types {'; '.join(wrong)}"
    ] * bool(wrong)
    return " | ".join(problems) or None


def _window_filter(part: Partition, start: datetime | None, end: datetime | None) -> Any:
    if (start is None or part.start >= start) and (end is None or part.end <= end):
        return None
    t, ts = pc.field("event_time"), CANONICAL_SCHEMA.field("event_time").type
    # Rows outside their own partition hour are kept: they must fail the placement check.
    misplaced = (t < pa.scalar(part.start, ts)) | (t >= pa.scalar(part.end, ts)) | t.is_null()
    in_window = (t >= pa.scalar(start or part.start, ts)) & (t < pa.scalar(end or part.end, ts))
    return misplaced | in_window


def _read(
    data: Location, path: str, columns: list[str], filt: Any, problems: list
) -> pa.Table | None:
    problem = None
    try:
        dataset = ds.dataset(path, filesystem=data.fs, format="parquet", schema=CANONICAL_SCHEMA)
        problem = schema_problem(next(iter(dataset.get_fragments())).physical_schema)
        return dataset.to_table(columns=columns, filter=filt)
    except (OSError, pa.ArrowException) as exc:
        # Reported as a failed schema check, not raised: one bad file must not hide the rest.
        problem = f"unreadable: {exc}"
        log.warning("Parquet file is unreadable.", extra={"file": path})
        return None
    finally:
        if problem:
            problems.append((path, problem))


def batches(
    data: Location,
    part: Partition,
    window: tuple[datetime | None, datetime | None],
    columns: list[str],
    batch_rows: int,
    problems: list[tuple[str, str]],
) -> Iterator[pa.Table]:
    """`columns` of one partition's rows in the window, at most `batch_rows` rows at a time.

    Files are read with CANONICAL_SCHEMA (missing columns are null); a file whose schema
    differs, or that cannot be read, is appended to `problems` as (path, problem).
    """
    filt = _window_filter(part, *window)
    buffered: list[pa.Table] = []
    count = 0
    for path in part.files:
        table = _read(data, path, columns, filt, problems)
        if table is None or table.num_rows == 0:
            continue
        buffered.append(table)
        count += table.num_rows
        while count >= batch_rows:
            combined = pa.concat_tables(buffered)
            yield combined.slice(0, batch_rows)
            buffered = [combined.slice(batch_rows)]
            count = buffered[0].num_rows
    if count:
        yield pa.concat_tables(buffered)


def _write_text(target: Location, text: str) -> None:
    if not target.is_local:  # an S3 PUT is atomic by itself
        with target.fs.open_output_stream(target.path) as out:
            out.write(text.encode())
        return
    parent = os.path.dirname(target.path)
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(target.path)}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, target.path)


def store_validation(data_uri: str, result: dict[str, Any]) -> str:
    """Write `result` as `quality/validation-<run_id>.json` and `quality/latest.json`.

    `result` is what `validate` returned (JSON-ready). Each file is replaced
    atomically, so a reader never sees half a document.

    Returns:
        URI of the validation file.
    """
    quality = resolve(data_uri).join(QUALITY_DIR)
    text = json.dumps(result, indent=2)
    target = quality.join(f"validation-{result['run_id']}.json")
    _write_text(target, text)
    _write_text(quality.join(LATEST), text)
    return target.uri


def latest_validation(data_uri: str) -> dict[str, Any] | None:
    """The most recent stored validation result (what `validate` returned), or None.

    None when no validation ran yet or `latest.json` cannot be read.
    """
    latest = resolve(data_uri).join(QUALITY_DIR, LATEST)
    try:
        with latest.fs.open_input_stream(latest.path) as fh:
            doc = json.loads(fh.read().decode())
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning(
            "Validation result is unreadable.", extra={"uri": latest.uri, "error": str(exc)}
        )
        return None
    return doc if isinstance(doc, dict) else None


_KEY_NAMES = ["source", "vendor", "source_format", "stage", "reason_code"]
QUARANTINE_SUMMARY_SCHEMA = pa.schema(
    [(k, pa.string()) for k in _KEY_NAMES]
    + [("records", pa.int64()), ("first_ingested_at", UTC_MS), ("last_ingested_at", UTC_MS)]
)
_AGGREGATES = {
    "count_all": "records",
    "ingested_at_min": "first_ingested_at",
    "ingested_at_max": "last_ingested_at",
}


def quarantine_summary(
    data_uri: str, start: datetime | None = None, end: datetime | None = None
) -> pa.Table:
    """Quarantined records counted per source, vendor, source_format, stage and reason_code.

    `source` is the file (`_source_file`) or, for Kafka, the topic. `start`/`end` bound
    `ingested_at` ([start, end)): a quarantined line has no trustworthy event time.

    Returns:
        A table in QUARANTINE_SUMMARY_SCHEMA, most records first; empty when nothing is
        quarantined.
    """
    quarantine = resolve(data_uri).join(QUARANTINE_DIR)
    files = quarantine.parquet_files()
    if not files:
        return QUARANTINE_SUMMARY_SCHEMA.empty_table()
    dataset = ds.dataset(
        files, filesystem=quarantine.fs, format="parquet", schema=QUARANTINE_SCHEMA
    )
    at = pc.field("ingested_at")
    cond = (at >= pa.scalar(start or datetime.min.replace(tzinfo=UTC), UTC_MS)) & (
        at < pa.scalar(end or datetime.max.replace(tzinfo=UTC), UTC_MS)
    )
    table = dataset.to_table(
        columns=["_source_file", "_source_topic", *_KEY_NAMES[1:], "ingested_at"], filter=cond
    )
    table = table.append_column(
        "source", pc.coalesce(table["_source_file"], table["_source_topic"])
    )
    grouped = table.group_by(_KEY_NAMES, use_threads=False).aggregate(
        [([], "count_all"), ("ingested_at", "min"), ("ingested_at", "max")]
    )
    grouped = grouped.rename_columns([_AGGREGATES.get(n, n) for n in grouped.column_names])
    summary = grouped.select(QUARANTINE_SUMMARY_SCHEMA.names).cast(QUARANTINE_SUMMARY_SCHEMA)
    return summary.sort_by([("records", "descending"), *[(k, "ascending") for k in _KEY_NAMES]])


INGEST_LAG_SCHEMA = pa.schema(
    [
        pa.field("cdn", pa.string()),
        pa.field("newest_event_time", UTC_MS),
        pa.field("lag_s", pa.float64()),
    ]
)


def ingest_lag(data_uri: str, now: datetime | None = None, lookback_hours: int = 24) -> pa.Table:
    """Newest event_time per CDN and how many seconds it lies behind `now` (default: clock).

    Reads `cdn` and `event_time` of the newest `lookback_hours` partitions that do not
    start after `now` (future partitions are a validation finding, not freshness), so a
    CDN whose feed stopped before that is absent.

    Returns:
        A table in INGEST_LAG_SCHEMA, largest lag first; empty when there is no data.
    """
    now = now or datetime.now(tz=UTC)
    data = resolve(data_uri)
    parts = [p for p in raw_partitions(data) if p.start <= now]
    if not parts:
        return INGEST_LAG_SCHEMA.empty_table()
    oldest = parts[-1].start - timedelta(hours=lookback_hours)
    files = [f for p in parts if p.start > oldest for f in p.files]
    table = ds.dataset(files, filesystem=data.fs, format="parquet").to_table(
        columns=["cdn", "event_time"]
    )
    newest = (
        table.filter(pc.is_valid(table["cdn"])).group_by("cdn").aggregate([("event_time", "max")])
    )
    times = newest["event_time_max"].cast(UTC_MS)
    lag_ms = pc.subtract(pa.scalar(now, UTC_MS).cast(pa.int64()), times.cast(pa.int64()))
    lag = pa.table(
        [newest["cdn"], times, pc.divide(lag_ms.cast(pa.float64()), 1000.0)],
        schema=INGEST_LAG_SCHEMA,
    )
    return lag.sort_by([("lag_s", "descending"), ("cdn", "ascending")])
