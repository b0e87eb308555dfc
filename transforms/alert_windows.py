"""Alert windows: the `alert_window_evaluations` mart over a run of sliding windows.

Each window covers [window_end - window_minutes, window_end) of the stored minute
rollups; window ends are `step_minutes` apart. The SQL decides eligibility, breaches
and severity (sql/intermediate/int_alert_windows_*.sql, sql/marts/alert_window_evaluations.sql);
this module only registers the sources and parameters and reads the mart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import duckdb
import pyarrow as pa

from ingest.schema import UTC_MS
from ingest.storage import Location
from transforms import models, offload, rollups
from transforms.alert_config import AlertSettings
from transforms.alert_state import series_key
from transforms.config import TransformSettings
from transforms.rollup_schema import ROLLUP_SCHEMA, RUN_PARAMS_SCHEMA

MINUTE = timedelta(minutes=1)
ALERT_PARAMS_SCHEMA = pa.schema(
    [
        pa.field("first_window_end", UTC_MS),
        pa.field("last_window_end", UTC_MS),
        pa.field("window_minutes", pa.int64()),
        pa.field("step_minutes", pa.int64()),
        pa.field("threshold", pa.float64()),
        pa.field("min_requests", pa.float64()),
        pa.field("p1_min_origin_share", pa.float64()),
        pa.field("p2_min_origin_share", pa.float64()),
    ]
)
OVERRIDES_SCHEMA = pa.schema(
    [
        pa.field("override_rank", pa.int64()),
        pa.field("pattern", pa.string()),
        pa.field("cdn", pa.string()),
        pa.field("severity", pa.string()),
    ]
)
TRACKED_SCHEMA = pa.schema([pa.field("path_template", pa.string()), pa.field("cdn", pa.string())])
# Models in build order, with how each is materialised.
ALERT_MODELS: tuple[tuple[str, Literal["view", "table"]], ...] = (
    ("staging/stg_minute_rollups", "view"),
    ("intermediate/int_minute_rollups_windowed", "view"),
    ("intermediate/int_minute_rollups_classified", "view"),
    # Tables: every window of the run reads the same minutes and window sums.
    ("intermediate/int_offload_summed_by_minute", "table"),
    ("intermediate/int_alert_windows_enumerated", "view"),
    ("intermediate/int_alert_windows_summed", "table"),
    ("intermediate/int_alert_windows_evaluated", "view"),
    ("marts/alert_window_evaluations", "view"),
)


@dataclass(frozen=True)
class EvaluatedWindow:
    """One alert window: its bounds, whether it holds any data, and its eligible series."""

    start: datetime
    end: datetime
    has_data: bool
    rows: dict[str, dict[str, Any]]


def threshold_of(settings: TransformSettings, alert_settings: AlertSettings) -> float:
    """The offload threshold alerts use: their own, else the analytics one."""
    return alert_settings.threshold if alert_settings.threshold is not None else settings.threshold


def floor_to_step(t: datetime, step_minutes: int) -> datetime:
    """`t` (UTC) rounded down to a multiple of `step_minutes` since the epoch."""
    minutes = int(t.astimezone(UTC).timestamp() // 60)
    return datetime.fromtimestamp((minutes - minutes % step_minutes) * 60, UTC)


def _register_rollups(
    con: duckdb.DuckDBPyConnection, data: Location, window: offload.Window
) -> int:
    available = models.partition_files(models.rollup_location(data))
    wanted = [f.partition for f in available if window.overlaps(*f.partition)]
    return len(models.register_minute_rollups(con, data, ROLLUP_SCHEMA, wanted))


def rollup_extent(data: Location) -> tuple[datetime, datetime] | None:
    """First and last minute held by the stored rollups, or None when there are none."""
    files = models.partition_files(models.rollup_location(data))
    if not files:
        return None
    partitions = sorted({f.partition for f in files})
    con = models.connect()
    try:
        models.register_minute_rollups(con, data, ROLLUP_SCHEMA, {partitions[0], partitions[-1]})
        models.build(con, "staging/stg_minute_rollups")
        row = con.execute("select min(minute), max(minute) from stg_minute_rollups").fetchone()
    finally:
        con.close()
    return (row[0], row[1]) if row and row[0] is not None else None


def evaluate_windows(
    data: Location,
    settings: TransformSettings,
    alert_settings: AlertSettings,
    first_end: datetime,
    last_end: datetime,
    tracked: Iterable[tuple[str, str | None]] = (),
) -> list[EvaluatedWindow]:
    """Every alert window ending in [first_end, last_end], `step_minutes` apart, in order.

    Rows cover series eligible in some window of the run, and the `tracked`
    (template, cdn) series, such as firing alerts, whatever their traffic.
    """
    span = timedelta(minutes=alert_settings.window_minutes)
    con = models.connect()
    try:
        _register_rollups(con, data, offload.Window(first_end - span, last_end))
        params = rollups.run_params(settings, first_end - span, last_end)
        models.register_run_params(con, params, RUN_PARAMS_SCHEMA)
        alert_params = {
            "first_window_end": first_end,
            "last_window_end": last_end,
            "window_minutes": alert_settings.window_minutes,
            "step_minutes": alert_settings.step_minutes,
            "threshold": threshold_of(settings, alert_settings),
            "min_requests": float(alert_settings.min_requests),
            "p1_min_origin_share": settings.p1_min_origin_share,
            "p2_min_origin_share": settings.p2_min_origin_share,
        }
        models.register_table(
            con, "alert_params", pa.Table.from_pylist([alert_params], schema=ALERT_PARAMS_SCHEMA)
        )
        overrides = [
            {"override_rank": i, "pattern": o.pattern, "cdn": o.cdn, "severity": o.severity}
            for i, o in enumerate(alert_settings.severity_overrides)
        ]
        models.register_table(
            con,
            "src_alert_severity_overrides",
            pa.Table.from_pylist(overrides, schema=OVERRIDES_SCHEMA),
        )
        models.register_table(
            con,
            "src_alert_tracked_series",
            pa.Table.from_pylist(
                [{"path_template": t, "cdn": c} for t, c in tracked], schema=TRACKED_SCHEMA
            ),
        )
        for model, materialize in ALERT_MODELS:
            models.build(con, model, materialize)
        totals = dict(
            con.execute(
                "select window_end, requests from int_alert_windows_summed where grain = 'minute'"
            ).fetchall()
        )
        ends = con.execute("select window_start, window_end from int_alert_windows_enumerated")
        windows = sorted(ends.fetchall(), key=lambda w: w[1])
        result = con.execute(
            "select * from alert_window_evaluations order by window_end, path_template, cdn"
        )
        names = [d[0] for d in result.description]
        by_end: dict[datetime, dict[str, dict[str, Any]]] = defaultdict(dict)
        for values in result.fetchall():
            row = dict(zip(names, values, strict=True))
            by_end[row["window_end"]][series_key(row["path_template"], row["cdn"])] = row
    finally:
        con.close()
    return [
        EvaluatedWindow(start, end, bool(totals.get(end)), by_end.get(end, {}))
        for start, end in windows
    ]
