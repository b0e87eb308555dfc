"""Validate landed canonical partitions with the Great Expectations suite.

`validate()` reads the partitions of a window in bounded batches (only the columns the
suite needs), runs the row checks of `transforms.quality_suite` on each batch, the
UNKNOWN-share check once on per-source-format counts, and a schema check on every
file, and merges everything into one JSON-ready document that `store_validation()`
saves. `latest_validation()`, `quarantine_summary()` and `ingest_lag()` are the readers
of the dashboard's data-quality page and the post-match report.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ingest.schema import LINEAGE_COLUMNS, CacheStatus
from ingest.storage import resolve
from transforms.errors import NoDataError
from transforms.quality_store import (
    batches,
    ingest_lag,
    latest_validation,
    quarantine_summary,
    raw_partitions,
    store_validation,
)
from transforms.quality_suite import (
    ENUM_COLUMNS,
    LINEAGE_COLUMN,
    PAIR_COLUMNS,
    PAIRS,
    SUITE_COLUMNS,
    Check,
    QualitySettings,
    SuiteRunner,
    row_checks,
    share_check,
)

__all__ = [
    "QualitySettings",
    "ingest_lag",
    "jsonable",
    "latest_validation",
    "quarantine_summary",
    "store_validation",
    "validate",
]

FORMAT_VERSION = 1
SCHEMA_CHECK = "parquet_schema_matches_canonical"
SCHEMA_DESCRIPTION = "every Parquet file has the canonical columns and types and can be read"
_NO_DATA_HINT = (
    "no rows in the window; ingest logs (`cdn-offload ingest files`) or widen --from/--to"
)


def validate(
    data_uri: str,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    settings: QualitySettings | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run the suite over the raw partitions overlapping [start, end).

    Rows of edge partitions outside the window are skipped, except rows that lie outside
    their own partition hour: those are misplaced and fail `event_time_in_partition`.

    Args:
        now: the validation time `event_time_not_in_future` compares with (default: clock).
        progress: called with (partitions done, partitions total) after each partition.

    Returns:
        The result document: `success`, `failed_checks`, `checks` (each with `success`,
        `element_count`, `unexpected_count`, `unexpected_percent`, `sample_unexpected`
        and `sample_rows` naming where rows came from), counts, window and settings.

    Raises:
        NoDataError: the window holds no partition, or no row in its partitions.
    """
    settings = settings or QualitySettings()
    started = time.monotonic()
    now = now or datetime.now(tz=UTC)
    data = resolve(data_uri)
    parts = raw_partitions(data, start, end)
    if not parts:
        raise NoDataError(f"{data.uri}/raw", _NO_DATA_HINT)
    checks, share = row_checks(settings), share_check(settings)
    runner = SuiteRunner(checks, share)
    tally = Tally([*checks, share], settings.sample_size)
    problems: list[tuple[str, str]] = []
    counts: dict[str, list[int]] = {}
    rows = 0
    latest_allowed = now + timedelta(seconds=settings.clock_skew_s)
    columns = [*SUITE_COLUMNS, *LINEAGE_COLUMNS]
    for done, part in enumerate(parts, start=1):
        params = {
            "partition_start": part.start,
            "partition_end": part.end,
            "latest_allowed": latest_allowed,
        }
        for batch in batches(data, part, (start, end), columns, settings.batch_rows, problems):
            rows += batch.num_rows
            _count_unknown(batch, counts)
            frame = _to_pandas(batch)
            tally.add(runner.run("edge_requests", frame, params), frame[LINEAGE_COLUMN])
        if progress:
            progress(done, len(parts))
    if rows == 0 and not problems:
        raise NoDataError(f"{data.uri}/raw", _NO_DATA_HINT)
    shares = [
        {"source_format": fmt, "rows": n, "unknown_rows": u, "unknown_share": u / n}
        for fmt, (n, u) in sorted(counts.items())
    ]
    if shares:
        import pandas as pd

        frame = pd.DataFrame(shares)
        tally.add(runner.run("source_format_shares", frame), frame["source_format"])
    files = sum(len(p.files) for p in parts)
    results = [*tally.results(), _schema_result(files, problems, settings.sample_size)]
    finished = datetime.now(tz=UTC)
    return {
        "format_version": FORMAT_VERSION,
        "run_id": f"{finished:%Y%m%dT%H%M%S}{finished.microsecond // 1000:03d}Z",
        "data": data.uri,
        "window": {"start": _iso(start), "end": _iso(end)},
        "validated_at": _iso(now),
        "duration_s": round(time.monotonic() - started, 3),
        "gx_version": runner.gx_version,
        "settings": settings.as_dict(),
        "partitions": len(parts),
        "first_partition": parts[0].key,
        "last_partition": parts[-1].key,
        "files": files,
        "rows": rows,
        "rows_by_source_format": shares,
        "success": all(r["success"] for r in results),
        "failed_checks": [r["name"] for r in results if not r["success"]],
        "checks": results,
    }


def jsonable(value: Any) -> Any:
    """`value` with numpy/pandas scalars, timestamps, tuples, NaN and infinities made JSON-safe."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else (None if math.isnan(value) else str(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if type(value).__name__ in ("NaTType", "NAType"):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return jsonable(value.item()) if hasattr(value, "item") else str(value)  # numpy scalars


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _to_pandas(batch: pa.Table) -> Any:
    """The suite's columns, the lineage text and the derived "A/B" pair columns."""
    text = {c: pc.cast(batch[c], pa.string()) for c in LINEAGE_COLUMNS}
    lineage = pc.coalesce(
        pc.binary_join_element_wise(text["_source_file"], text["_source_line"], ":"),
        text["_source_file"],
        pc.binary_join_element_wise(*[text[c] for c in LINEAGE_COLUMNS[2:]], "/"),
        pa.scalar("(no lineage)"),
    )
    table = batch.select(SUITE_COLUMNS).append_column(LINEAGE_COLUMN, lineage)
    for kind, (a, b) in PAIRS.items():
        canonical = pc.and_(
            pc.is_in(batch[a], pa.array(ENUM_COLUMNS[a])),
            pc.is_in(batch[b], pa.array(ENUM_COLUMNS[b])),
        )
        joined = pc.binary_join_element_wise(batch[a], batch[b], "/")
        table = table.append_column(PAIR_COLUMNS[kind], pc.if_else(canonical, joined, None))
    return table.to_pandas(split_blocks=True)


def _count_unknown(batch: pa.Table, into: dict[str, list[int]]) -> None:
    formats = pc.fill_null(batch["source_format"], "(missing)")
    unknown = pc.fill_null(pc.equal(batch["cache_status"], CacheStatus.UNKNOWN.value), False)
    for slot, values in enumerate((formats, pc.filter(formats, unknown))):
        for item in pc.value_counts(values).to_pylist():
            into.setdefault(item["values"], [0, 0])[slot] += item["counts"]


class Tally:
    """Merges the GX results of many batches into one entry per check."""

    def __init__(self, checks: list[Check], sample_size: int) -> None:
        self._checks = checks
        self._size = sample_size
        self._acc: dict[str, dict[str, Any]] = {c.name: _entry(c) for c in checks}
        self._values: dict[str, Counter[str]] = {c.name: Counter() for c in checks}

    def add(self, results: list[Any], where: Any) -> None:
        """Merge one batch's results; `where` (a pandas Series) says where each row came from."""
        for result in results:
            name = (result.expectation_config.meta or {})["check"]
            acc, summary = self._acc[name], result.result or {}
            acc["success"] = acc["success"] and bool(result.success)
            for key in ("element_count", "missing_count", "unexpected_count"):
                acc[key] += int(summary.get(key) or 0)
            for item in summary.get("partial_unexpected_counts") or []:
                self._values[name][json.dumps(jsonable(item["value"]))] += int(item["count"])
            positions = summary.get("partial_unexpected_index_list") or []
            for pos, value in zip(
                positions, summary.get("partial_unexpected_list") or [], strict=False
            ):
                if len(acc["sample_rows"]) < self._size:
                    acc["sample_rows"].append(
                        {where.name: jsonable(where.iloc[pos]), "value": jsonable(value)}
                    )
            error = _exception_message(result.exception_info)
            if error and len(acc["errors"]) < self._size:
                acc["errors"].append(error)

    def results(self) -> list[dict[str, Any]]:
        out = []
        for check in self._checks:
            acc = dict(self._acc[check.name])
            judged = acc["element_count"] - acc["missing_count"]
            acc["success"] = acc["success"] and not acc["errors"]
            acc["unexpected_percent"] = (
                100.0 * acc["unexpected_count"] / judged if judged > 0 else 0.0
            )
            values = self._values[check.name].most_common(self._size)
            acc["sample_unexpected"] = [{"value": json.loads(v), "count": n} for v, n in values]
            out.append(acc)
        return out


def _entry(check: Check, engine: str = "great_expectations") -> dict[str, Any]:
    kwargs = dict(check.kwargs)
    if check.condition:
        kwargs["row_condition"] = " and ".join(" ".join(map(str, part)) for part in check.condition)
    counters = dict.fromkeys(("element_count", "missing_count", "unexpected_count"), 0)
    return {
        **{"name": check.name, "description": check.description, "engine": engine},
        **{"expectation_type": check.expectation, "kwargs": kwargs, "success": True, **counters},
        **{"unexpected_percent": 0.0, "sample_unexpected": [], "sample_rows": [], "errors": []},
    }


def _exception_message(info: Any) -> str | None:
    # GX reports either one {raised_exception, exception_message} or one per metric.
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message")) if info.get("raised_exception") else None
    return next((m for m in map(_exception_message, info.values()) if m), None)


def _schema_result(files: int, problems: list[tuple[str, str]], size: int) -> dict[str, Any]:
    entry = _entry(Check(SCHEMA_CHECK, SCHEMA_DESCRIPTION, "", {}), engine="pyarrow")
    values = Counter(problem for _, problem in problems).most_common(size)
    entry.update(
        expectation_type=None,
        success=not problems,
        element_count=files,
        unexpected_count=len(problems),
        unexpected_percent=100.0 * len(problems) / files if files else 0.0,
        sample_unexpected=[{"value": v, "count": n} for v, n in values],
        sample_rows=[{"file": path, "problem": problem} for path, problem in problems[:size]],
    )
    return entry
