"""Explore: filter by time, CDN, POP, host and template; drill into one template."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import streamlit as st

from dashboards import charts, data, results, ui
from dashboards.config import DashboardSettings
from dashboards.data_reports import cdn_comparison, template_evidence

MINUTE = timedelta(minutes=1)
TEMPLATE_COLUMNS = [
    "path_template",
    "flagged",
    "request_offload",
    "byte_offload",
    "origin_requests_per_s",
    "requests",
    "cacheable_requests",
    "origin_requests",
    "cache_hit_ratio",
    "revalidation_share",
]
POP_COLUMNS = ["cdn", "pop", "request_offload", "byte_offload", "origin_requests_per_s", "requests"]
SUGGESTION_COLUMNS = [
    "scope",
    "code",
    "action",
    "estimated_request_offload_after",
    "estimated_origin_requests_saved",
]


def _query_time(name: str, default: datetime, lo: datetime, hi: datetime) -> datetime:
    """A `?from=`/`?to=` link parameter (alerts link here), clamped to the data."""
    try:
        value = datetime.fromisoformat(st.query_params.get(name, "").replace("Z", "+00:00"))
    except ValueError:
        return default
    naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return min(max(naive, lo), hi)


def filters_form(
    cfg: DashboardSettings, status: results.DataStatus
) -> tuple[results.Filters, results.Window]:
    first, last = results.extent(status)
    # The data spans at least one minute (`extent`); a linked range keeps at least one too.
    start = min(_query_time("from", first, first, last), last - MINUTE)
    end = max(_query_time("to", last, first, last), start + MINUTE)
    options = data.filter_options(
        cfg.data, cfg.config_file, cfg.source, status.version, results.window(first, last)
    )
    linked_cdn = [c for c in [st.query_params.get("cdn")] if c in options["cdn"]]
    with st.form("explore_filters", border=False):
        span = st.slider(
            "Time range (UTC)",
            min_value=first,
            max_value=last,
            value=(start, end),
            step=MINUTE,
            format="MM-DD HH:mm",
            key="explore_span",
        )
        cols = st.columns(4)
        cdns = cols[0].multiselect("CDN", options["cdn"], default=linked_cdn, key="explore_cdns")
        pops = cols[1].multiselect("POP", options["pop"], key="explore_pops")
        hosts = cols[2].multiselect("Host", options["host"], key="explore_hosts")
        search = cols[3].text_input("Template contains", key="explore_search")
        st.form_submit_button("Apply filters", icon=":material/filter_alt:")
    chosen = results.Filters(tuple(cdns), tuple(pops), tuple(hosts), search.strip() or None)
    return chosen, results.window(span[0].replace(tzinfo=UTC), span[1].replace(tzinfo=UTC))


def overview(view: results.WindowView) -> None:
    h, threshold = view.headline, view.report["threshold"]
    cols = st.columns(4)
    cols[0].metric("Requests", f"{h['requests']:,.0f}", border=True)
    cols[1].metric("Request offload", ui.pct(h["request_offload"]), border=True)
    cols[2].metric("Byte offload", ui.pct(h["byte_offload"]), border=True)
    cols[3].metric("Origin requests/s", ui.rate(h["origin_requests_per_s"], ""), border=True)
    left, right = st.columns(2)
    left.altair_chart(charts.offload_timeline(view.minutes, threshold))
    right.altair_chart(charts.cdn_offload_lines(view.cdn_minutes, threshold, height=300))
    st.subheader("Templates")
    ui.table(view.report["templates"], TEMPLATE_COLUMNS, key="explore_templates")
    left, right = st.columns(2)
    with left:
        st.subheader("Per CDN")
        ui.table(view.cdn_share, key="explore_cdns_table")
    with right:
        st.subheader("Per POP")
        ui.table(view.report["by_pop"], POP_COLUMNS, key="explore_pops_table")


def suggestions(flags: list[dict], template: str) -> None:
    st.markdown("**Suggestions**")
    mine = [f for f in flags if f["path_template"] == template]
    rows = [{"scope": f["cdn"] or "all CDNs", **s} for f in mine for s in f["suggestions"]]
    if not mine:
        st.caption("This template is not flagged in the selection.")
    elif not rows:
        st.caption(
            "Flagged, but no suggestion rule matched (or suggestions are not installed yet)."
        )
    else:
        ui.table(rows, SUGGESTION_COLUMNS, key="explore_suggestions")


def evidence(
    cfg: DashboardSettings,
    status: results.DataStatus,
    window: results.Window,
    template: str,
    flags: list[dict],
) -> None:
    st.markdown("**Evidence**")
    # A template flagged on one CDN only (an outlier) is explained on that CDN.
    scopes = [f["cdn"] for f in flags if f["path_template"] == template]
    cdn = scopes[0] if scopes and None not in scopes else None
    found = template_evidence(cfg.data, cfg.config_file, status.version, window, template, cdn)
    if isinstance(found, results.Problem):
        ui.show_problem(found)
    else:
        ui.document(found, "explore_evidence", skip=("path_template", "cdn", "suggestions"))


def drill_down(
    cfg: DashboardSettings,
    status: results.DataStatus,
    window: results.Window,
    filters: results.Filters,
    view: results.WindowView,
) -> None:
    st.header("Template drill-down")
    # Flagged templates first (worst origin load on top), then the busiest others.
    flagged = [f["path_template"] for f in view.report["flagged"]]
    templates = list(
        dict.fromkeys(flagged + [t["path_template"] for t in view.report["templates"]])
    )
    linked = st.query_params.get("template")
    if linked and linked not in templates:
        templates.insert(0, linked)
    if not templates:
        st.info("No template matches the filters.")
        return
    template = st.selectbox(
        "Template",
        templates,
        index=templates.index(linked) if linked else 0,
        key="explore_template",
    )
    st.code(template, language=None)
    drill = data.window_view(
        cfg.data,
        cfg.config_file,
        cfg.source,
        status.version,
        window,
        replace(filters, path_template=template),
    )
    if isinstance(drill, results.Problem):
        ui.show_problem(drill)
        return
    if drill.empty:
        st.warning("This template has no requests in the selection.")
        return
    threshold = drill.report["threshold"]
    left, right = st.columns(2)
    left.altair_chart(charts.offload_timeline(drill.minutes, threshold))
    right.altair_chart(charts.cdn_offload_lines(drill.cdn_minutes, threshold, height=300))
    left, right = st.columns(2)
    with left:
        st.markdown("**Cache-status mix**")
        st.altair_chart(charts.cache_mix_bars(drill.cache_mix))
        st.markdown("**Per CDN**")
        ui.table(drill.cdn_share, key="drill_cdns")
    with right:
        st.markdown("**Per POP**")
        ui.table(drill.report["by_pop"], POP_COLUMNS, key="drill_pops")
    suggestions(view.report["flagged"], template)
    evidence(cfg, status, window, template, view.report["flagged"])


def comparison(cfg: DashboardSettings, status: results.DataStatus, window: results.Window) -> None:
    if not st.toggle("Multi-CDN comparison", key="explore_comparison"):
        return
    found = cdn_comparison(cfg.data, cfg.config_file, status.version, window)
    if isinstance(found, results.Problem):
        ui.show_problem(found)
    elif isinstance(found, dict):
        ui.document(found, "explore_comparison")
    else:
        ui.table(found, key="explore_comparison_rows")


st.title("Explore")
context = ui.context()
if context is None:
    st.stop()
settings, status = context
filters, window = filters_form(settings, status)
view = data.window_view(
    settings.data, settings.config_file, settings.source, status.version, window, filters
)
if isinstance(view, results.Problem):
    ui.show_problem(view)
    st.stop()
ui.source_note(status, settings, view)
if view.empty:
    st.warning("No requests match these filters in this time range.")
    st.caption("Widen the time range or clear some filters.")
    st.stop()
overview(view)
drill_down(settings, status, window, filters, view)
comparison(settings, status, window)
