"""Data of the post-match and data-quality pages, and of sections that land with later issues.

Same rules as `dashboards.data` (this is its second half): cached wrappers around
`transforms`, SQL only through the dashboard marts. Evidence, the CDN comparison, the
full report, capacity and alerts are called only when their module is installed;
otherwise a `Problem` says what is missing, so a page shows a note instead of failing.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from dashboards.data import (
    MAX_ENTRIES,
    RESULT_TTL_S,
    connection,
    mart,
    optional,
    transform_settings,
)
from dashboards.results import Problem
from ingest.storage import resolve
from transforms import export, models, offload, quality, rollups
from transforms.errors import NoDataError, TransformError
from transforms.rollup_schema import RUN_PARAMS_SCHEMA

LAG_TTL_S = 10
ALERT_STATE = "alerts/state.json"


@dataclass
class Report:
    """The post-match document and its downloads; `full` when `transforms.reports` made it."""

    doc: dict[str, Any]
    full: bool
    json: bytes
    csv: bytes
    csv_name: str
    html: bytes | None


@dataclass
class QualityView:
    """Ingested and quarantined rows per source, the latest validation, ingest lag."""

    by_source: pl.DataFrame
    quarantine: pl.DataFrame
    validation: dict[str, Any] | None
    rows: int
    quarantined: int


def _missing(what: str, module: str, issue: int) -> Problem:
    return Problem(f"{what} is not available yet.", f"It arrives with issue {issue} ({module}).")


def _csv_zip(doc: dict[str, Any], write_csvs: Any) -> bytes:
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w") as archive:
        for path in write_csvs(doc, tmp):
            archive.write(path, Path(path).name)
    return buffer.getvalue()


def analysis_downloads(report: dict[str, Any]) -> Report:
    """The analyze result of a window as JSON and spreadsheet-safe CSV (no query)."""
    flat = io.StringIO()
    export.write_csv(export.report_rows(report), flat)
    text = json.dumps(report, indent=2, default=str).encode()
    return Report(report, False, text, flat.getvalue().encode(), "offload.csv", None)


@st.cache_data(ttl=RESULT_TTL_S, max_entries=8, show_spinner="Building the report…")
def post_match_report(
    data_uri: str,
    config_file: str | None,
    source: offload.Source,
    version: str,
    window: offload.Window,
    peak_concurrency: int | None = None,
) -> Report | Problem:
    """Issue 8's full report of `window` (`build_report`; its numbers are `analyze`'s).

    Comes with the HTML report, one CSV per section (zipped) and the JSON document, or a
    `Problem` when the report module is not installed or there is nothing to report.
    """
    del version
    build = optional("transforms.reports", "build_report")
    render = optional("transforms.report_html", "render_html")
    write_csvs = optional("transforms.report_export", "write_csvs")
    if build is None or render is None or write_csvs is None:
        return _missing("The full post-match report", "transforms.reports", 8)
    data = resolve(data_uri)
    try:
        doc = build(
            data,
            transform_settings(config_file),
            window,
            peak_concurrency=peak_concurrency,
            source=source,
        )
    except NoDataError as exc:
        return Problem("There is nothing to report.", str(exc), exc.hint)
    except TransformError as exc:
        return Problem("The report could not be built; retry shortly.", str(exc))
    text = json.dumps(doc, indent=2, default=str).encode()
    html = render(doc).encode()
    return Report(doc, True, text, _csv_zip(doc, write_csvs), "report-csv.zip", html)


@st.cache_data(ttl=RESULT_TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def quality_view(data_uri: str, version: str, window: offload.Window) -> QualityView:
    """Rows ingested per source in `window` and records quarantined since its start."""
    del version
    data = resolve(data_uri)
    params = rollups.run_params(transform_settings(None), window.start, window.end)
    raw = models.partition_files(models.raw_location(data))
    wanted = [f.partition for f in raw if window.overlaps(*f.partition)]
    with connection() as con:
        models.register_run_params(con, params, RUN_PARAMS_SCHEMA)
        models.register_edge_requests(con, data, wanted)
        by_source = mart(con, "marts/dashboard_rows_by_source")
    quarantined = pl.from_arrow(quality.quarantine_summary(data_uri, window.start, None))
    assert isinstance(quarantined, pl.DataFrame)
    per_source = quarantined.group_by("source").agg(quarantined=pl.col("records").sum())
    by_source = (
        by_source.join(per_source, on="source", how="full", coalesce=True)
        .with_columns(pl.col("rows", "viewer_rows", "quarantined").fill_null(0))
        .sort(["quarantined", "rows"], descending=True)
    )
    return QualityView(
        by_source,
        quarantined,
        quality.latest_validation(data_uri),
        rows=int(by_source["rows"].sum()),
        quarantined=int(quarantined["records"].sum()),
    )


@st.cache_data(ttl=LAG_TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def ingest_lag(data_uri: str) -> pl.DataFrame:
    """Newest event time per CDN and its lag behind the clock, largest lag first."""
    frame = pl.from_arrow(quality.ingest_lag(data_uri))
    assert isinstance(frame, pl.DataFrame)
    return frame


@st.cache_data(ttl=RESULT_TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def template_evidence(
    data_uri: str,
    config_file: str | None,
    version: str,
    window: offload.Window,
    path_template: str,
    cdn: str | None,
) -> dict[str, Any] | Problem:
    """Why `path_template` misses (issue 5's evidence), or what is missing to tell."""
    del version
    fn = optional("transforms.evidence", "template_evidence")
    if fn is None:
        return _missing("Cache-policy evidence", "transforms.evidence", 5)
    try:
        found = fn(resolve(data_uri), transform_settings(config_file), window, path_template, cdn)
    except NoDataError as exc:
        return Problem("There is no evidence for this template.", str(exc), exc.hint)
    return found if isinstance(found, dict) else {"evidence": found}


@st.cache_data(ttl=RESULT_TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def cdn_comparison(
    data_uri: str, config_file: str | None, version: str, window: offload.Window
) -> Any:
    """Issue 5's multi-CDN comparison for `window`, or a `Problem`."""
    del version
    fn = optional("transforms.comparison", "compare_cdns")
    if fn is None:
        return _missing("The multi-CDN comparison", "transforms.comparison", 5)
    try:
        return fn(resolve(data_uri), transform_settings(config_file), window)
    except NoDataError as exc:
        return Problem("There is nothing to compare.", str(exc), exc.hint)


@st.cache_data(ttl=LAG_TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def firing_alerts(data_uri: str) -> pl.DataFrame | Problem:
    """Alerts firing now, from the state `cdn-offload alerts watch` keeps under the data dir."""
    load = optional("transforms.alert_state", "load_state")
    if load is None:
        return _missing("Alerting", "transforms.alerts", 6)
    try:
        state = load(resolve(data_uri).join(ALERT_STATE))
    except TransformError as exc:
        return Problem("The alert state cannot be read.", str(exc))
    rows = [
        {
            "severity": s.severity,
            "path_template": s.template,
            "cdn": s.cdn or "all",
            "request_offload": s.metrics.get("request_offload"),
            "threshold": s.metrics.get("threshold"),
            "origin_requests_per_s": s.metrics.get("origin_requests_per_s"),
            "since": s.since or s.fired_at,
            "top_suggestion": (s.suggestion or {}).get("code"),
        }
        for s in state.firing()
    ]
    return (
        pl.DataFrame(rows, schema_overrides={"since": pl.Datetime("us", "UTC")})
        if rows
        else (pl.DataFrame())
    )
