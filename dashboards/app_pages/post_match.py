"""Post-match: the report of a chosen window, on screen and as HTML, CSV and JSON."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import streamlit as st

from dashboards import charts, data, results, ui
from dashboards.data_reports import Report, analysis_downloads, post_match_report

FLAG_COLUMNS = [
    "severity",
    "path_template",
    "cdn",
    "request_offload",
    "origin_requests_per_s",
    "origin_load_share",
    "cacheable_requests",
    "top_suggestion",
]
SUGGESTION_COLUMNS = [
    "path_template",
    "scope",
    "code",
    "action",
    "estimated_request_offload_after",
    "estimated_origin_requests_saved",
]
SPIKE_COLUMNS = [
    "start",
    "end",
    "minutes",
    "peak_requests_per_s",
    "baseline_requests_per_s",
    "request_offload",
    "origin_requests_per_s",
]
EXTRA_SECTIONS = {
    "capacity": "Capacity for the next match",
    "snapshots": "Static-snapshot candidates",
    "alerts": "Alerts that fired",
    "data_quality": "Data quality",
}


def summary(view: results.WindowView) -> None:
    h = view.headline
    cols = st.columns(5)
    cols[0].metric("Requests", f"{h['requests']:,.0f}", border=True)
    cols[1].metric("Request offload", ui.pct(h["request_offload"]), border=True)
    cols[2].metric("Byte offload", ui.pct(h["byte_offload"]), border=True)
    cols[3].metric("Origin requests", f"{h['origin_requests']:,.0f}", border=True)
    cols[4].metric("Origin egress (mean)", ui.bits(h["origin_egress_bytes_per_s"]), border=True)


def timeline(view: results.WindowView) -> None:
    st.subheader("Timeline")
    st.altair_chart(charts.offload_timeline(view.minutes, view.report["threshold"], height=300))
    st.altair_chart(charts.traffic_timeline(view.minutes))
    if view.spikes:
        st.caption("Traffic spikes and the offload through them")
        ui.table(view.spikes, SPIKE_COLUMNS, key="pm_spikes")


def worst(view: results.WindowView) -> None:
    st.subheader("Per CDN")
    left, right = st.columns(2)
    left.altair_chart(charts.cdn_offload_bars(view.cdn_share, view.report["threshold"]))
    right.altair_chart(charts.cdn_share_area(view.cdn_minutes))
    ui.table(view.cdn_share, key="pm_cdns")
    st.subheader("Worst templates, by origin load")
    flags = view.report["flagged"]
    if not flags:
        st.success("No template with enough traffic was under the target.")
        return
    ui.table(
        [
            {**f, "cdn": f["cdn"] or "all", "top_suggestion": ui.top_suggestion(f["suggestions"])}
            for f in flags
        ],
        FLAG_COLUMNS,
        key="pm_flags",
    )
    rows = [
        {"path_template": f["path_template"], "scope": f["cdn"] or "all CDNs", **s}
        for f in flags
        for s in f["suggestions"]
    ]
    st.subheader("Suggestions")
    if rows:
        ui.table(rows, SUGGESTION_COLUMNS, key="pm_suggestions")
    else:
        st.caption(
            "No suggestion for the flagged templates (or suggestions are not installed yet)."
        )


def section(title: str, content: Any) -> None:
    st.subheader(title)
    if isinstance(content, dict) and content.get("available") is False:
        st.info("Not available for this report.", icon=":material/info:")
        st.text(str(content.get("reason") or ""))
    elif isinstance(content, dict):
        body = content.get("result", content)
        ui.document(
            body if isinstance(body, dict) else {"rows": body}, f"pm_{title}", skip=("available",)
        )
    else:
        st.json(content, expanded=False)


def downloads(rep: Report, prefix: str) -> None:
    cols = st.columns(3)
    if rep.html is not None:
        cols[0].download_button(
            "HTML report",
            rep.html,
            f"{prefix}.html",
            "text/html",
            icon=":material/download:",
            key=f"{prefix}_html",
        )
    cols[1].download_button(
        "CSV", rep.csv, rep.csv_name, icon=":material/download:", key=f"{prefix}_csv"
    )
    cols[2].download_button(
        "JSON",
        rep.json,
        f"{prefix}.json",
        "application/json",
        icon=":material/download:",
        key=f"{prefix}_json",
    )


def full_report(rep: Report | results.Problem) -> None:
    if isinstance(rep, results.Problem):
        ui.show_problem(rep)
        return
    for key, title in EXTRA_SECTIONS.items():
        if key in rep.doc:
            section(title, rep.doc[key])
    st.subheader("Report downloads")
    downloads(rep, "offload-report")


st.title("Post-match report")
context = ui.context()
if context is None:
    st.stop()
settings, status = context
first, last = results.extent(status)
cols = st.columns([2, 2, 1])
start = cols[0].datetime_input(
    "From (UTC)", first, first, last, step=timedelta(minutes=1), format="YYYY-MM-DD", key="pm_from"
)
end = cols[1].datetime_input(
    "To (UTC)", last, first, last, step=timedelta(minutes=1), format="YYYY-MM-DD", key="pm_to"
)
peak = cols[2].number_input(
    "Peak viewers (capacity)",
    min_value=0,
    value=0,
    step=100_000,
    key="pm_peak",
    help="Concurrent viewers to project origin load for.",
)
if start is None or end is None or end <= start:
    st.warning("Choose a window whose end is after its start.")
    st.stop()
window = results.window(start.replace(tzinfo=UTC), end.replace(tzinfo=UTC))
view = data.window_view(
    settings.data, settings.config_file, settings.source, status.version, window
)
if isinstance(view, results.Problem):
    ui.show_problem(view)
    st.stop()
ui.source_note(status, settings, view)
if view.empty:
    st.warning("No requests in this window.")
    st.caption("Choose a window inside the data.")
    st.stop()
summary(view)
timeline(view)
worst(view)
st.subheader("Downloads of these figures")
downloads(analysis_downloads(view.report), "offload-analysis")
st.divider()
if st.toggle(
    "Build the full report: evidence, snapshot candidates, capacity, alerts, data quality, HTML",
    key="pm_full",
):
    full_report(
        post_match_report(
            settings.data,
            settings.config_file,
            settings.source,
            status.version,
            window,
            int(peak) or None,
        )
    )
