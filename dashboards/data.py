"""The dashboard's only queries: cached wrappers around `transforms` and the dashboard marts.

Pages call these functions and render what they return; no page runs SQL or computes
an offload figure. Window results are built on one shared DuckDB connection
(`st.cache_resource`), used under a lock because Streamlit serves each session from its
own thread and the models are named relations on that connection. Results are cached
with `st.cache_data`; their keys carry a data version (names, sizes and modification
times of the raw and rollup files), so new data is read on the next refresh while an
unchanged feed is served from the cache.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import duckdb
import polars as pl
import pyarrow as pa
import streamlit as st

from dashboards.config import DashboardSettings, load_dashboard_settings
from dashboards.results import (
    NO_FILTERS,
    DataStatus,
    Filters,
    Problem,
    SeriesView,
    Window,
    WindowView,
)
from ingest.storage import resolve
from transforms import models, offload, rollups
from transforms.config import TransformSettings, load_settings
from transforms.errors import ConfigError, NoDataError, TransformError

STATUS_TTL_S = 2
RESULT_TTL_S = 600
MAX_ENTRIES = 32
INGEST_FIX = (
    "cdn-offload ingest files LOG_DIR --out {data}\n"
    "# or a demo match:\n"
    "cdn-offload generate --out demo-logs --rows 200000\n"
    "cdn-offload ingest files demo-logs/cloudfront demo-logs/fastly demo-logs/akamai "
    "demo-logs/cloudflare --out {data}"
)
# build_marts' steps after it registers `src_minute_rollups`, replayed on filtered rollups.
_DOWNSTREAM: list[tuple[str, Literal["view", "table"]]] = [
    ("staging/stg_minute_rollups", "view"),
    ("intermediate/int_minute_rollups_windowed", "view"),
    ("intermediate/int_analysis_window_resolved", "table"),
    ("intermediate/int_minute_rollups_classified", "view"),
    ("intermediate/int_offload_summed_by_grain", "table"),
    ("intermediate/int_offload_ratios_computed", "table"),
    ("intermediate/int_offload_summed_by_minute", "view"),
    ("intermediate/int_offload_ratios_by_minute_computed", "view"),
    *[(mart, "view") for mart in offload.MART_MODELS],
]
_PARAMS_SCHEMA = pa.schema(
    [(n, pa.list_(pa.string())) for n in ("cdns", "pops", "hosts")]
    + [("template_search", pa.string()), ("path_template", pa.string())]
)


def settings() -> DashboardSettings:
    """The dashboard settings from the environment (`cdn-offload dashboard` sets them)."""
    return load_dashboard_settings()


@st.cache_resource(show_spinner=False)
def transform_settings(config_file: str | None) -> TransformSettings:
    """Offload settings (threshold, min_requests, template rules) from `config_file`."""
    return load_settings(config_file)


class _Database:
    def __init__(self) -> None:
        self.con = models.connect()
        self.lock = threading.Lock()


@st.cache_resource(show_spinner=False, on_release=lambda db: db.con.close())
def _database() -> _Database:
    return _Database()


def _reset(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every relation an earlier computation left, so none leaks into the next one."""
    found = con.execute(
        "select view_name, temporary, 'view' from duckdb_views() where not internal "
        "union all select table_name, temporary, 'table' from duckdb_tables()"
    ).fetchall()
    for name, temporary, kind in found:
        # Identifiers cannot be bound; these names come from the catalog (our models).
        quoted = '"' + name.replace('"', '""') + '"'
        schema = "temp.main." if temporary else ""
        con.execute(f"drop {kind} if exists {schema}{quoted} cascade")


@contextmanager
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """The shared connection, held alone and emptied of earlier relations.

    One computation at a time bounds the dashboard's memory however many screens
    watch it; results are cached, so the lock is only taken on a cache miss.
    """
    db = _database()
    with db.lock:
        _reset(db.con)
        yield db.con


def mart(con: duckdb.DuckDBPyConnection, model: str) -> pl.DataFrame:
    frame = con.table(models.build(con, model)).pl()
    assert isinstance(frame, pl.DataFrame)
    return frame


def _version(files: list[models.PartitionFile]) -> str:
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        digest.update(f"{f.path}\0{f.size}\0{f.mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


@st.cache_data(ttl=STATUS_TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def data_status(data_uri: str, config_file: str | None) -> DataStatus:
    """Files, version, rollup freshness and the oldest/newest event times of the data."""
    try:
        tsettings = transform_settings(config_file)
        data = resolve(data_uri)
        raw = models.partition_files(models.raw_location(data))
        stored = models.partition_files(models.rollup_location(data))
    except (ConfigError, ValueError, OSError) as exc:
        return DataStatus(
            data_uri, problem=Problem("The dashboard cannot read its input.", str(exc))
        )
    if not raw:
        fix = INGEST_FIX.format(data=data_uri)
        return DataStatus(data_uri, problem=Problem("No ingested data yet.", data_uri, fix))
    hours = sorted({f.partition for f in raw})
    with connection() as con:
        models.register_edge_requests(con, data, {hours[0], *hours[-2:]})
        extent = mart(con, "marts/dashboard_data_extent").sort("cdn")
    return DataStatus(
        data_uri,
        raw_files=len(raw),
        version=_version(raw + stored),
        rollups_fresh=rollups.rollups_fresh(data, tsettings),
        first_event=extent["first_event_time"].min(),  # type: ignore[arg-type]
        newest_event=extent["newest_event_time"].max(),  # type: ignore[arg-type]
        by_cdn=extent.select("cdn", "newest_event_time", "rows"),
    )


def optional(module: str, name: str) -> Callable[..., Any] | None:
    """`module.name` when that module is installed (features land issue by issue)."""
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if callable(found) else None


def _apply_filters(con: duckdb.DuckDBPyConnection, filters: Filters) -> None:
    params = {
        "cdns": [list(filters.cdns)],
        "pops": [list(filters.pops)],
        "hosts": [list(filters.hosts)],
        "template_search": [filters.template_search or None],
        "path_template": [filters.path_template],
    }
    models.register_table(con, "dashboard_params", pa.table(params, schema=_PARAMS_SCHEMA))
    models.build(con, "marts/dashboard_rollups_filtered", "table")
    models.register_model_as_source(con, "marts/dashboard_rollups_filtered", "src_minute_rollups")
    for model, kind in _DOWNSTREAM:
        models.build(con, model, kind)


def _minutes(
    con: duckdb.DuckDBPyConnection, headline: dict[str, Any], with_spikes: bool
) -> tuple[pl.DataFrame, list[dict[str, Any]] | None]:
    minutes = con.table(models.build(con, "marts/minute_offload")).pl()
    minutes = minutes.filter(pl.col("cdn").is_null()).drop("cdn").sort("minute")
    if not with_spikes:
        return minutes.with_columns(spike=pl.lit(None, pl.Boolean)), None
    series = optional("transforms.report_timeline", "minute_series")
    mark = optional("transforms.report_timeline", "mark_spikes")
    detect = optional("transforms.report_timeline", "detect_spikes")
    start, end = headline["window_start"], headline["window_end"]
    if not (series and mark and detect and start and end):
        return minutes.with_columns(spike=pl.lit(None, pl.Boolean)), None
    marked = mark(series(con, start, end))
    spikes, _ = detect(marked, [])
    flags = marked.select(
        pl.col("minute").dt.cast_time_unit("us"), "spike", spike_baseline="baseline"
    )
    minutes = minutes.with_columns(pl.col("minute").dt.cast_time_unit("us"))
    return minutes.join(flags, on="minute", how="left"), spikes


def _build(
    con: duckdb.DuckDBPyConnection,
    data_uri: str,
    config_file: str | None,
    source: offload.Source,
    window: Window,
    filters: Filters,
) -> str:
    """Build the offload marts of `window` under `filters` on `con`; returns the source read."""
    tsettings = transform_settings(config_file)
    data = resolve(data_uri)
    chosen = offload.choose_source(data, tsettings, source)
    offload.build_marts(con, data, tsettings, window, chosen)
    if filters.active:
        _apply_filters(con, filters)
    return chosen


def _problem(exc: TransformError) -> Problem:
    if isinstance(exc, NoDataError):
        return Problem("There is nothing to analyse.", str(exc), exc.hint)
    return Problem("The offload figures could not be computed; retry shortly.", str(exc))


def window_view(
    data_uri: str,
    config_file: str | None,
    source: offload.Source,
    version: str,
    window: Window,
    filters: Filters = NO_FILTERS,
) -> WindowView | Problem:
    """Offload of `window` under `filters`: the analyze result plus the dashboard marts.

    Unfiltered, `report` is exactly what `offload.analyze` returns for the window; with
    filters, the same models run on the filtered rollups. `version` only keys the cache;
    failures are not cached, so a transient one is retried on the next refresh.
    """
    try:
        return _window_view(data_uri, config_file, source, version, window, filters)
    except TransformError as exc:
        return _problem(exc)


@st.cache_data(ttl=RESULT_TTL_S, max_entries=MAX_ENTRIES, show_spinner="Computing offload…")
def _window_view(
    data_uri: str,
    config_file: str | None,
    source: offload.Source,
    version: str,
    window: Window,
    filters: Filters,
) -> WindowView:
    del version
    with connection() as con:
        chosen = _build(con, data_uri, config_file, source, window, filters)
        report = offload.report(con, transform_settings(config_file), chosen)
        headline = mart(con, "marts/dashboard_headline").row(0, named=True)
        # A spike is a traffic event; one template's own bursts are not (its evidence
        # compares offload in and out of the traffic spikes).
        minutes, spikes = _minutes(con, headline, filters.path_template is None)
        mix = mart(con, "marts/dashboard_cache_status_mix") if filters.path_template else None
        return WindowView(
            report=report,
            headline=headline,
            cdn_share=mart(con, "marts/dashboard_cdn_share").sort("requests", descending=True),
            minutes=minutes,
            cdn_minutes=mart(con, "marts/dashboard_cdn_minute_traffic").sort("minute", "cdn"),
            cache_mix=pl.DataFrame() if mix is None else mix.sort("cdn", "cacheable_requests"),
            spikes=spikes,
        )


def window_series(
    data_uri: str, config_file: str | None, source: offload.Source, version: str, window: Window
) -> SeriesView | Problem:
    """Per-minute offload and traffic of `window` with its spikes; no flags, so cheaper."""
    try:
        return _window_series(data_uri, config_file, source, version, window)
    except TransformError as exc:
        return _problem(exc)


@st.cache_data(ttl=RESULT_TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def _window_series(
    data_uri: str, config_file: str | None, source: offload.Source, version: str, window: Window
) -> SeriesView:
    del version
    with connection() as con:
        _build(con, data_uri, config_file, source, window, NO_FILTERS)
        headline = mart(con, "marts/dashboard_headline").row(0, named=True)
        minutes, spikes = _minutes(con, headline, True)
        cdn_minutes = mart(con, "marts/dashboard_cdn_minute_traffic").sort("minute", "cdn")
        return SeriesView(minutes, cdn_minutes, spikes)


@st.cache_data(ttl=RESULT_TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def filter_options(
    data_uri: str,
    config_file: str | None,
    source: offload.Source,
    version: str,
    window: offload.Window,
) -> dict[str, list[str]]:
    """CDNs, POPs and hosts seen in `window`, busiest first (empty lists without data)."""
    del version
    tsettings = transform_settings(config_file)
    data = resolve(data_uri)
    try:
        with connection() as con:
            chosen = offload.choose_source(data, tsettings, source)
            offload.build_marts(con, data, tsettings, window, chosen)
            options = mart(con, "marts/dashboard_filter_options")
    except TransformError:
        return {"cdn": [], "pop": [], "host": []}
    ranked = options.sort(["dimension", "requests", "value"], descending=[False, True, False])
    return {
        d: ranked.filter(pl.col("dimension") == d)["value"].to_list()
        for d in ("cdn", "pop", "host")
    }
