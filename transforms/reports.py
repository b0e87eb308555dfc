"""The post-match report: every figure of `cdn-offload report` in one JSON-ready document.

`build_report` builds the offload marts once, takes the analyze result from them (so
the report's numbers are exactly `analyze`'s for the same window), adds the minute
timeline with its spikes, the per-CDN comparison, evidence for the flagged templates,
static-snapshot candidates, the capacity projection, replayed alerts and data quality.
A section whose source is not available says so (`available: false` and a `reason`);
no figure is ever made up. `report_html` and `report_export` render the document.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cdn_offload import __version__
from ingest.storage import Location
from transforms import models, offload, report_quality
from transforms import report_sources as src
from transforms import report_timeline as tl
from transforms.config import TransformSettings
from transforms.errors import NoDataError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
SNAPSHOT_LIMIT = 20
DEFAULT_SPIKE_RULE = tl.SpikeRule()
Progress = Callable[[int, int, str], None]
"""Called with (steps done, steps in total, what runs next)."""


class _Steps:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, label: str, extra: int = 0) -> None:
        self.total += extra
        if self.progress:
            self.progress(self.done, self.total, label)
        self.done += 1

    def finish(self) -> None:
        if self.progress:
            self.progress(self.total, self.total, "done")


def build_report(
    data: Location,
    settings: TransformSettings,
    window: offload.Window,
    *,
    peak_concurrency: int | None = None,
    events: list[dict[str, Any]] | None = None,
    spike_rule: tl.SpikeRule = DEFAULT_SPIKE_RULE,
    alert_settings: Any | None = None,
    source: offload.Source = "auto",
    progress: Progress | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report document for `window` (all data when its bounds are open).

    `analysis` is the `offload.analyze` result for the same window and source; the
    headline, per-CDN and flagged sections repeat its figures unchanged. When the data
    directory holds nothing, or the window holds no request, `empty` is true, `empty_reason`
    says why and the sections hold no rows (the document is still complete).

    Args:
        peak_concurrency: concurrent viewers to project origin load for (capacity).
        events: named events (`report_timeline.load_events`) drawn on the timeline.
        alert_settings: `AlertSettings` of the alert replay (default: loaded from the
            environment).
        progress: called before each step, for a progress bar.
    """
    steps = _Steps(progress, 9)
    steps("building offload marts")
    chosen = offload.choose_source(data, settings, source)
    con = models.connect()
    try:
        try:
            offload.build_marts(con, data, settings, window, chosen)
        except NoDataError as exc:
            steps.finish()
            return _no_data(data, settings, window, chosen, str(exc), now)
        steps("offload figures")
        analysis = offload.report(con, settings, chosen)
        start = datetime.fromisoformat(analysis["window"]["from"])
        end = datetime.fromisoformat(analysis["window"]["to"])
        steps("minute timeline")
        series = tl.mark_spikes(tl.minute_series(con, start, end), spike_rule)
        share = tl.cdn_share_series(con)
        built = src.built_evidence(con, analysis["flagged"], offload.Window(start, end))
    finally:
        con.close()
    in_window = [e for e in events or [] if start <= e["time"] < end]
    spikes, spike_summary = tl.detect_spikes(series, in_window, spike_rule)
    empty = analysis["overall"]["requests"] == 0
    doc = _header(data, analysis, now)
    doc.update(
        empty=empty,
        empty_kind="no_requests" if empty else None,
        empty_reason="no requests in the window" if empty else None,
        headline=_headline(analysis, tl.peaks(series)),
        timeline={
            "minutes": tl.series_rows(series),
            "events": [{**e, "time": tl.iso(e["time"])} for e in in_window],
            "events_given": events is not None,
            "spikes": spikes,
            "spike_summary": spike_summary,
        },
        cdns=_cdns(analysis, share),
    )
    scope = offload.Window(start, end)
    flags = analysis["flagged"]
    steps("per-CDN comparison")
    doc["cdns"]["comparison"] = src.call(
        "transforms.comparison", "compare_cdns", data, settings, scope, source=chosen
    )
    steps("evidence for flagged templates")
    doc["flagged"] = src.flagged(
        data, settings, scope, flags, built, lambda label: steps(label, extra=1)
    )
    steps("static-snapshot candidates")
    doc["snapshots"] = src.call(
        "transforms.snapshots",
        "snapshot_candidates",
        data,
        settings,
        scope,
        limit=SNAPSHOT_LIMIT,
        source=chosen,
    )
    steps("capacity projection")
    doc["capacity"] = src.capacity(data, settings, scope, peak_concurrency, chosen)
    steps("alert replay")
    doc["alerts"] = src.alerts(data, settings, scope, alert_settings)
    steps("data quality")
    doc["data_quality"] = report_quality.data_quality(data, start, end)
    steps.finish()
    return doc


def _header(data: Location, analysis: dict[str, Any], now: datetime | None) -> dict[str, Any]:
    generated = (now or datetime.now(tz=UTC)).astimezone(UTC)
    return {
        "report": {
            "format_version": FORMAT_VERSION,
            "generated_at": tl.iso(generated),
            "generator": f"cdn-offload {__version__}",
            "data": data.uri,
        },
        "window": analysis["window"],
        "threshold": analysis["threshold"],
        "min_requests": analysis["min_requests"],
        "analysis": analysis,
    }


def _no_data(
    data: Location,
    settings: TransformSettings,
    window: offload.Window,
    source: str,
    reason: str,
    now: datetime | None,
) -> dict[str, Any]:
    seconds = (window.end - window.start).total_seconds() if window.start and window.end else None
    analysis = {
        "window": {
            "from": tl.iso(window.start) if window.start else None,
            "to": tl.iso(window.end) if window.end else None,
            "seconds": seconds,
            "source": source,
        },
        "threshold": settings.threshold,
        "min_requests": settings.min_requests,
        "overall": {f: None if f in offload.NULLABLE_FIELDS else 0 for f in offload.METRIC_FIELDS},
        **{k: [] for k in ("by_cdn", "by_pop", "non_cacheable", "flagged", "templates")},
    }
    doc = _header(data, analysis, now)
    none = src.unavailable(reason)
    doc.update(
        empty=True,
        empty_kind="no_data",
        empty_reason=reason,
        headline=_headline(analysis, {"requests": None, "origin_requests": None}),
        timeline={
            "minutes": [],
            "events": [],
            "events_given": False,
            "spikes": [],
            "spike_summary": {"spike_minutes": 0},
        },
        cdns={**_cdns(analysis, []), "comparison": none},
        flagged={"available": True, "rows": []},
        snapshots=none,
        capacity=none,
        alerts=none,
        data_quality=report_quality.data_quality(data, window.start, window.end),
    )
    return doc


def _headline(analysis: dict[str, Any], peaks: dict[str, Any]) -> dict[str, Any]:
    overall = analysis["overall"]
    severities = [f["severity"] for f in analysis["flagged"]]
    return {
        **{
            k: overall[k]
            for k in (
                "requests",
                "cacheable_requests",
                "non_cacheable_requests",
                "request_offload",
                "byte_offload",
                "origin_requests",
                "origin_requests_per_s",
                "origin_bytes",
                "cacheable_bytes",
            )
        },
        "origin_bytes_per_s": (
            overall["origin_bytes"] / analysis["window"]["seconds"]
            if analysis["window"]["seconds"]
            else None
        ),
        "peak_requests": peaks["requests"],
        "peak_origin_requests": peaks["origin_requests"],
        "flagged": {s: severities.count(s) for s in ("P1", "P2", "P3")},
        "below_threshold": (
            overall["request_offload"] is not None
            and overall["request_offload"] < analysis["threshold"]
        ),
    }


def _cdns(analysis: dict[str, Any], share: list[dict[str, Any]]) -> dict[str, Any]:
    total = analysis["overall"]["requests"] or 0
    rows = [
        {**r, "traffic_share": (r["requests"] / total) if total else None}
        for r in analysis["by_cdn"]
    ]
    return {"rows": rows, "share_over_time": share}
