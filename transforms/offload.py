"""Offload analysis of a time window: the numbers behind `cdn-offload analyze`.

`analyze` reads stored minute rollups when they cover the raw files, or computes the
same rollup from raw Parquet on the fly, builds the offload marts and returns a
plain dict shaped as the analyze JSON contract (see docs/offload-definitions.md).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import duckdb

from ingest.storage import Location
from transforms import models, rollups
from transforms.config import TransformSettings
from transforms.errors import NoDataError
from transforms.rollup_schema import ROLLUP_SCHEMA, RUN_PARAMS_SCHEMA
from transforms.suggestions import non_cacheable_suggestions, suggestions_for
from transforms.suggestions import prepare as prepare_suggestions

log = logging.getLogger(__name__)
Source = Literal["auto", "raw", "rollups"]

# The marts, in build order; every later one reads only earlier ones.
MART_MODELS = [
    "marts/offload_summary",
    "marts/cdn_offload",
    "marts/pop_offload",
    "marts/path_template_offload",
    "marts/path_template_cdn_offload",
    "marts/minute_offload",
    "marts/path_template_minute_offload",
    "marts/non_cacheable_requests",
    "marts/offload_flags",
]
METRIC_FIELDS = [
    "requests",
    "cacheable_requests",
    "request_offload",
    "byte_offload",
    "origin_requests",
    "origin_bytes",
    "revalidation_share",
    "cache_hit_ratio",
    "cache_hit_ratio_strict",
    "origin_requests_per_s",
    "revalidation_requests",
    "synthetic_requests",
    "non_cacheable_requests",
    "non_cacheable_origin_requests",
    "cacheable_bytes",
    "offloaded_bytes",
]
NULLABLE_FIELDS = frozenset(
    {
        "request_offload",
        "byte_offload",
        "revalidation_share",
        "cache_hit_ratio",
        "cache_hit_ratio_strict",
        "origin_requests_per_s",
    }
)
FLAG_FIELDS = [
    "path_template",
    "cdn",
    "scope",
    "requests",
    "cacheable_requests",
    "request_offload",
    "byte_offload",
    "origin_requests",
    "origin_bytes",
    "origin_requests_per_s",
    "origin_load_share",
    "severity",
]


@dataclass(frozen=True)
class Window:
    """A minute-aligned [start, end) window; an open side is None."""

    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def aligned(cls, start: datetime | None, end: datetime | None) -> Window:
        """Window with `start` rounded down and `end` rounded up to whole minutes (UTC)."""

        def utc(t: datetime) -> datetime:
            return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)

        lo = utc(start).replace(second=0, microsecond=0) if start else None
        hi = None
        if end:
            hi = utc(end).replace(second=0, microsecond=0)
            if hi < utc(end):
                hi += timedelta(minutes=1)
        return cls(lo, hi)

    def overlaps(self, dt: str, hour: str) -> bool:
        begin = datetime.fromisoformat(f"{dt}T{hour}:00:00+00:00")
        return (self.end is None or begin < self.end) and (
            self.start is None or begin + timedelta(hours=1) > self.start
        )


def choose_source(
    data: Location, settings: TransformSettings, source: Source
) -> Literal["raw", "rollups"]:
    """Where to read: stored rollups when asked for or up to date, else raw files."""
    if source != "auto":
        return source
    return "rollups" if rollups.rollups_fresh(data, settings) else "raw"


def build_marts(
    con: duckdb.DuckDBPyConnection,
    data: Location,
    settings: TransformSettings,
    window: Window,
    source: Literal["raw", "rollups"],
) -> int:
    """Register sources for `window` and build every offload mart; returns files read.

    Raises:
        NoDataError: no Parquet files under the data directory for the window.
    """
    params = rollups.run_params(settings, window.start, window.end)
    models.register_run_params(con, params, RUN_PARAMS_SCHEMA)
    if source == "raw":
        available = models.partition_files(models.raw_location(data))
        wanted = [f.partition for f in available if window.overlaps(*f.partition)]
        files = models.register_edge_requests(con, data, wanted)
        if not available:
            raise NoDataError(models.raw_location(data).uri, "run `cdn-offload ingest` first")
        rollups.build_request_rollup(con, settings)
        models.register_model_as_source(
            con, "intermediate/int_requests_rolled_up_to_minute", "src_minute_rollups"
        )
    else:
        available = models.partition_files(models.rollup_location(data))
        wanted = [f.partition for f in available if window.overlaps(*f.partition)]
        files = models.register_minute_rollups(con, data, ROLLUP_SCHEMA, wanted)
        if not available:
            raise NoDataError(
                models.rollup_location(data).uri,
                "build them with `cdn-offload analyze --rebuild-rollups`",
            )
    models.build(con, "staging/stg_minute_rollups")
    models.build(con, "intermediate/int_minute_rollups_windowed")
    models.build(con, "intermediate/int_analysis_window_resolved", "table")
    models.build(con, "intermediate/int_minute_rollups_classified")
    models.build(con, "intermediate/int_offload_summed_by_grain", "table")
    models.build(con, "intermediate/int_offload_ratios_computed", "table")
    # Per-minute series stay views: computed only when a caller reads those marts.
    models.build(con, "intermediate/int_offload_summed_by_minute")
    models.build(con, "intermediate/int_offload_ratios_by_minute_computed")
    for mart in MART_MODELS:
        models.build(con, mart)
    # Suggestions (issue 5): parameters, raw requests and lazy evidence views.
    prepare_suggestions(con, data, settings, window, source)
    return len(files)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def _rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    rel = con.execute(sql, params or {})
    names = [d[0] for d in rel.description]
    return [{n: _clean(v) for n, v in zip(names, row, strict=True)} for row in rel.fetchall()]


def _metrics(row: dict[str, Any] | None, keys: Sequence[str] = ()) -> dict[str, Any]:
    """`keys` then every metric of a mart row; counts of an absent row are 0, ratios null."""
    row = row or {}
    out = {k: row.get(k) for k in keys}
    for field in METRIC_FIELDS:
        value = row.get(field)
        out[field] = 0 if value is None and field not in NULLABLE_FIELDS else value
    return out


def report(
    con: duckdb.DuckDBPyConnection, settings: TransformSettings, source: str
) -> dict[str, Any]:
    """The analyze result (JSON contract) from marts built on `con`."""
    window = _rows(con, "select * from int_analysis_window_resolved")[0]
    summary = _rows(con, "select * from offload_summary")
    by_cdn = _rows(con, "select * from cdn_offload order by requests desc, cdn")
    by_pop = _rows(con, "select * from pop_offload order by requests desc, cdn, pop")
    flags = _rows(con, "select * from offload_flags order by flag_rank")
    flagged_templates = {f["path_template"] for f in flags if f["cdn"] is None}
    templates = _rows(
        con,
        "select * from path_template_offload order by requests desc, path_template limit $top",
        {"top": settings.top_templates},
    )
    suggestions = suggestions_for(con, flags)
    return {
        "window": {
            "from": window["window_start"],
            "to": window["window_end"],
            "seconds": window["window_seconds"],
            "source": source,
        },
        "threshold": settings.threshold,
        "min_requests": settings.min_requests,
        "overall": _metrics(summary[0] if summary else None),
        "by_cdn": [_metrics(r, ["cdn"]) for r in by_cdn],
        "by_pop": [_metrics(r, ["cdn", "pop"]) for r in by_pop],
        "non_cacheable": _rows(
            con, "select * from non_cacheable_requests order by requests desc, method"
        ),
        "flagged": [
            {**{k: f[k] for k in FLAG_FIELDS}, "suggestions": s}
            for f, s in zip(flags, suggestions, strict=True)
        ],
        "templates": [
            {**_metrics(t, ["path_template"]), "flagged": t["path_template"] in flagged_templates}
            for t in templates
        ],
        # Templates served with never-cacheable methods (POST beacons): suggestions only.
        "non_cacheable_templates": non_cacheable_suggestions(con),
    }


def analyze(
    data: Location,
    settings: TransformSettings,
    window: Window | None = None,
    source: Source = "auto",
) -> dict[str, Any]:
    """Offload report for `window` (all data when None), shaped as the analyze JSON contract.

    Raises:
        NoDataError: the data directory holds nothing to analyse.
    """
    chosen = choose_source(data, settings, source)
    con = models.connect()
    try:
        files = build_marts(con, data, settings, window or Window(), chosen)
        log.debug("Built offload marts.", extra={"source": chosen, "files": files})
        return report(con, settings, chosen)
    finally:
        con.close()
