"""The dashboard pages' data calls, replayed outside Streamlit for bench_dashboard.

Each function makes the calls its page in dashboards/app_pages/ makes on first load,
in the same order, with the same arguments and default widgets, through the real
cached functions of dashboards/data.py and dashboards/data_reports.py. Keep them in
step with the pages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

PAGES = ("live", "explore", "post_match", "data_quality")
TITLES = {
    "live": "Live",
    "explore": "Explore",
    "post_match": "Post-match",
    "data_quality": "Data quality",
}


class Timer:
    """Calls one data function, records its wall time by name, refuses a `Problem`."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.on_demand: list[str] = []

    def __call__(self, name: str, fn: Callable[..., Any], *args: Any, toggle: bool = False) -> Any:
        from dashboards.results import Problem

        start = time.perf_counter()
        result = fn(*args)
        self.seconds[name] = time.perf_counter() - start
        if toggle:
            self.on_demand.append(name)
        if isinstance(result, Problem):
            raise SystemExit(f"{name} returned a problem: {result.title} {result.detail}")
        return result


def live(t: Timer, uri: str) -> None:
    """dashboards/app_pages/live.py: body() on each auto-refresh."""
    from dashboards import data, data_reports, results

    cfg = data.settings()
    status = t("data_status", data.data_status, uri, None)
    now, history = results.live_windows(status, cfg.live_window_min, cfg.history_min)
    common = (uri, None, cfg.source, status.version)
    t(f"window_view, last {cfg.live_window_min} min", data.window_view, *common, now)
    t(f"window_series, last {cfg.history_min} min", data.window_series, *common, history)
    t("firing_alerts", data_reports.firing_alerts, uri)


def explore(t: Timer, uri: str) -> None:
    """dashboards/app_pages/explore.py with default filters and the first template drilled."""
    from dataclasses import replace

    from dashboards import data, data_reports, results

    cfg = data.settings()
    status = t("data_status", data.data_status, uri, None)
    whole = results.window(*results.extent(status))
    common = (uri, None, cfg.source, status.version, whole)
    t("filter_options", data.filter_options, *common)
    view = t("window_view, whole match", data.window_view, *common, results.NO_FILTERS)
    # The drill-down's default template: flagged ones first, then the busiest others.
    flags = view.report["flagged"]
    template = next(f["path_template"] for f in flags + view.report["templates"])
    drill = replace(results.NO_FILTERS, path_template=template)
    t("window_view, template drill-down", data.window_view, *common, drill)
    scopes = [f["cdn"] for f in flags if f["path_template"] == template]
    cdn = scopes[0] if scopes and None not in scopes else None
    reports = (uri, None, status.version, whole)
    t("template_evidence", data_reports.template_evidence, *reports, template, cdn)
    t("cdn_comparison (toggle)", data_reports.cdn_comparison, *reports, toggle=True)


def post_match(t: Timer, uri: str) -> None:
    """dashboards/app_pages/post_match.py over the whole match, then the full report."""
    from dashboards import data, data_reports, results

    cfg = data.settings()
    status = t("data_status", data.data_status, uri, None)
    whole = results.window(*results.extent(status))
    common = (uri, None, cfg.source, status.version, whole)
    view = t("window_view, whole match", data.window_view, *common)
    t("analysis_downloads", data_reports.analysis_downloads, view.report)
    t("post_match_report (toggle)", data_reports.post_match_report, *common, None, toggle=True)


def data_quality(t: Timer, uri: str) -> None:
    """dashboards/app_pages/data_quality.py over the whole match."""
    from dashboards import data, data_reports, results

    status = t("data_status", data.data_status, uri, None)
    whole = results.window(*results.extent(status))
    t("quality_view", data_reports.quality_view, uri, status.version, whole)
    t("ingest_lag", data_reports.ingest_lag, uri)


RUNNERS: dict[str, Callable[[Timer, str], None]] = {
    "live": live,
    "explore": explore,
    "post_match": post_match,
    "data_quality": data_quality,
}
