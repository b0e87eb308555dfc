"""Live page: headline, per-CDN and flagged figures equal `analyze` for the same window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import streamlit as st

from dashboards import ui
from ingest.storage import resolve
from tests.unit.dashboards.match_data import newest_event
from tests.unit.dashboards.support import frame_with, texts
from transforms import offload
from transforms.config import load_settings

pytestmark = pytest.mark.unit


def _expected(data_dir, minutes: int) -> dict:
    end = newest_event(data_dir).replace(second=0, microsecond=0)
    window = offload.Window(end - timedelta(minutes=minutes), end)
    return offload.analyze(resolve(str(data_dir)), load_settings(), window)


def test_headline_equals_analyze_for_the_last_complete_minutes(page_factory, match_data):
    at = page_factory("live", match_data).run()
    expected = _expected(match_data, 15)

    assert not at.exception
    overall = expected["overall"]
    metrics = {m.label: m for m in at.metric}
    assert metrics["Request offload"].value == ui.pct(overall["request_offload"])
    assert metrics["Byte offload"].value == ui.pct(overall["byte_offload"])
    assert metrics["Origin requests/s"].value == ui.rate(overall["origin_requests_per_s"], "")
    egress = overall["origin_bytes"] / expected["window"]["seconds"]
    assert metrics["Origin egress"].value == ui.bits(egress)
    gap = (overall["request_offload"] - expected["threshold"]) * 100
    assert metrics["Request offload"].delta == f"{gap:+.1f} pts vs 90% target"


def test_flagged_and_per_cdn_tables_equal_analyze(page_factory, match_data):
    at = page_factory("live", match_data).run()
    expected = _expected(match_data, 15)

    flags = frame_with(at, "severity", "path_template", "origin_load_share")
    assert expected["flagged"], "the hostile rows are flagged in the last 15 minutes"
    assert flags["path_template"].tolist() == [f["path_template"] for f in expected["flagged"]]
    assert flags["severity"].tolist() == [f["severity"] for f in expected["flagged"]]
    assert flags["request_offload"].tolist() == pytest.approx(
        [f["request_offload"] for f in expected["flagged"]]
    )
    cdns = frame_with(at, "cdn", "traffic_share")
    shown = dict(zip(cdns["cdn"], cdns["request_offload"], strict=True))
    assert shown == pytest.approx({c["cdn"]: c["request_offload"] for c in expected["by_cdn"]})
    total = expected["overall"]["requests"]
    shares = dict(zip(cdns["cdn"], cdns["traffic_share"], strict=True))
    assert shares == pytest.approx({c["cdn"]: c["requests"] / total for c in expected["by_cdn"]})


def test_choosing_a_longer_headline_window(page_factory, match_data):
    at = page_factory("live", match_data).run()
    at.button_group(key="live_window").set_value(60).run()
    expected = _expected(match_data, 60)

    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Request offload"] == ui.pct(expected["overall"]["request_offload"])


def test_stale_feed_is_loud_and_a_fresh_one_is_not(page_factory, match_data):
    stale = page_factory("live", match_data).run()
    fresh = page_factory("live", match_data, stale_after_s=10**12).run()

    assert any("STALE FEED" in e.value for e in stale.error)
    assert not [e for e in fresh.error if "STALE" in e.value]
    assert any(e.value.startswith("Live: newest record") for e in fresh.success)


def test_per_minute_charts_and_spikes_are_shown(page_factory, match_data):
    at = page_factory("live", match_data).run()

    assert len(at.get("vega_lite_chart")) >= 4
    assert any(t.startswith("Shaded: traffic spikes") for t in texts(at))


def test_firing_alerts_come_from_the_alert_state(page_factory, match_data):
    from transforms.alert_state import AlertState, Series, save_state

    since = datetime(2025, 3, 9, 12, 20, tzinfo=UTC)
    series = Series(
        "/api/v1/match/{id}/score",
        None,
        status="firing",
        severity="P1",
        since=since,
        metrics={"request_offload": 0.12, "threshold": 0.9},
        suggestion={"code": "QUERY_STRING_IN_CACHE_KEY"},
    )
    state_file = match_data / "alerts" / "state.json"
    state_file.parent.mkdir(exist_ok=True)
    save_state(resolve(str(state_file)), AlertState(series={series.key: series}))
    try:
        st.cache_data.clear()
        at = page_factory("live", match_data).run()
    finally:
        state_file.unlink()
        st.cache_data.clear()

    alerts = frame_with(at, "severity", "path_template", "since", "top_suggestion")
    assert alerts["path_template"].tolist() == ["/api/v1/match/{id}/score"]
    assert alerts["top_suggestion"].tolist() == ["QUERY_STRING_IN_CACHE_KEY"]


def test_alerts_not_installed_is_a_note(page_factory, match_data, monkeypatch):
    monkeypatch.setattr("dashboards.data_reports.optional", lambda module, name: None)
    st.cache_data.clear()
    at = page_factory("live", match_data).run()
    st.cache_data.clear()

    assert not at.exception
    assert "Alerting is not available yet." in [w.value for w in at.warning]
