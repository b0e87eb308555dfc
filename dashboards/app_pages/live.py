"""Live: offload of the last minutes against the target, readable from across the room."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, data, results, ui
from dashboards.config import DashboardSettings
from dashboards.data_reports import firing_alerts

FLAG_COLUMNS = [
    "severity",
    "path_template",
    "cdn",
    "request_offload",
    "byte_offload",
    "origin_requests_per_s",
    "origin_load_share",
    "cacheable_requests",
    "top_suggestion",
]
BIG_FIGURES = """<style>
.st-key-live_headline [data-testid="stMetricValue"] { font-size: 4rem; line-height: 1.1; }
.st-key-live_headline [data-testid="stMetricLabel"] p { font-size: 1.3rem; }
.st-key-live_headline [data-testid="stMetricDelta"] { font-size: 1.1rem; }
</style>"""
CDN_COLUMNS = [
    "cdn",
    "traffic_share",
    "request_offload",
    "byte_offload",
    "origin_requests_per_s",
    "origin_share",
    "requests",
]


def headline(view: results.WindowView) -> None:
    h = view.headline
    target = f"{h['threshold']:.0%} target"

    def versus(value: float | None) -> str | None:
        return None if value is None else f"{value * 100:+.1f} pts vs {target}"

    cols = st.container(key="live_headline").columns(4)
    cols[0].metric(
        "Request offload",
        ui.pct(h["request_offload"]),
        versus(h["request_offload_vs_target"]),
        border=True,
    )
    cols[1].metric(
        "Byte offload", ui.pct(h["byte_offload"]), versus(h["byte_offload_vs_target"]), border=True
    )
    cols[2].metric("Origin requests/s", ui.rate(h["origin_requests_per_s"], ""), border=True)
    cols[3].metric("Origin egress", ui.bits(h["origin_egress_bytes_per_s"]), border=True)
    st.caption(
        f"Viewer traffic {ui.rate(h['requests_per_s'], ' req/s')} · edge egress "
        f"{ui.bits(h['edge_egress_bytes_per_s'])} · {h['requests']:,.0f} requests in the window"
    )


def timelines(history: results.SeriesView, threshold: float) -> None:
    st.subheader("Per minute")
    if history.spikes is None:
        st.caption("Spike marking needs the report timeline (issue 8); it is not installed yet.")
    else:
        st.caption(f"Shaded: traffic spikes ({len(history.spikes)} in view).")
    st.altair_chart(charts.offload_timeline(history.minutes, threshold, height=320))
    st.altair_chart(charts.traffic_timeline(history.minutes))


def cdns(view: results.WindowView, history: results.SeriesView) -> None:
    st.subheader("Per CDN")
    left, right = st.columns(2)
    with left:
        st.altair_chart(charts.cdn_offload_bars(view.cdn_share, view.report["threshold"]))
        ui.table(view.cdn_share, CDN_COLUMNS, key="live_cdns")
    with right:
        st.altair_chart(charts.cdn_share_area(history.cdn_minutes, height=300))


def flagged(view: results.WindowView) -> None:
    st.subheader("Templates under target, by origin load")
    flags = view.report["flagged"]
    if not flags:
        st.success("No template with enough traffic is under the target.", icon=":material/check:")
        return
    rows = [
        {**f, "cdn": f["cdn"] or "all", "top_suggestion": ui.top_suggestion(f["suggestions"])}
        for f in flags
    ]
    ui.table(rows, FLAG_COLUMNS, key="live_flags")


def alerts(cfg: DashboardSettings) -> None:
    st.subheader("Firing alerts")
    firing = firing_alerts(cfg.data)
    if isinstance(firing, results.Problem):
        ui.show_problem(firing)
    elif firing.is_empty():
        st.success("No alert is firing.", icon=":material/notifications_off:")
    else:
        ui.table(firing, key="live_alerts")


def body(cfg: DashboardSettings, window_min: int) -> None:
    status = data.data_status(cfg.data, cfg.config_file)
    if status.problem is not None:
        ui.show_problem(status.problem)
        return
    fresh = results.freshness(status, cfg.stale_after_s)
    ui.freshness_banner(fresh, cfg.stale_after_s)
    now_w, history_w = results.live_windows(status, window_min, cfg.history_min)
    view = data.window_view(cfg.data, cfg.config_file, cfg.source, status.version, now_w)
    history = data.window_series(cfg.data, cfg.config_file, cfg.source, status.version, history_w)
    if isinstance(view, results.Problem):
        ui.show_problem(view)
        return
    if isinstance(history, results.Problem):
        ui.show_problem(history)
        return
    if view.empty:
        st.warning(f"No viewer requests in the last {window_min} minutes of data.")
    headline(view)
    ui.source_note(status, cfg, view)
    timelines(history, view.report["threshold"])
    cdns(view, history)
    flagged(view)
    alerts(cfg)
    with st.expander("Feed freshness per CDN"):
        ui.table(fresh.by_cdn, key="live_freshness")


st.title("Live offload")
# Fixed CSS (no data in it): headline figures big enough to read across the war room.
st.html(BIG_FIGURES)
context = ui.context()
if context is None:
    st.stop()
settings, _ = context
top = st.columns([3, 1])
choices = sorted({5, 15, 60, settings.live_window_min})
window_min = (
    top[0].segmented_control(
        "Headline figures over",
        choices,
        default=settings.live_window_min,
        format_func=lambda m: f"last {m} min",
        key="live_window",
    )
    or settings.live_window_min
)
paused = top[1].toggle("Pause auto-refresh", key="live_paused")
st.fragment(run_every=None if paused else settings.refresh_s)(body)(settings, window_min)
