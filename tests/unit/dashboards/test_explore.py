"""Explore page: filtered figures equal `analyze`; the template drill-down; deep links."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboards import ui
from ingest.storage import resolve
from tests.unit.dashboards.match_data import EVIL_PATH, EVIL_POP, whole_window
from tests.unit.dashboards.support import frame_with
from transforms import offload
from transforms.alert_payloads import dashboard_link
from transforms.config import load_settings

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def expected(match_data) -> dict:
    return offload.analyze(resolve(str(match_data)), load_settings(), whole_window(match_data))


def test_unfiltered_figures_equal_analyze(page_factory, match_data, expected):
    at = page_factory("explore", match_data).run()

    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Request offload"] == ui.pct(expected["overall"]["request_offload"])
    assert shown["Byte offload"] == ui.pct(expected["overall"]["byte_offload"])
    assert shown["Requests"] == f"{expected['overall']['requests']:,.0f}"
    templates = frame_with(at, "path_template", "flagged", "cache_hit_ratio")
    assert templates["path_template"].tolist() == [
        t["path_template"] for t in expected["templates"]
    ]
    shown_offload = [None if v != v else v for v in templates["request_offload"]]  # NaN: none
    assert shown_offload == pytest.approx([t["request_offload"] for t in expected["templates"]])


def test_cdn_filter_shows_that_cdns_figures(page_factory, match_data, expected):
    at = page_factory("explore", match_data).run()
    at.multiselect(key="explore_cdns").set_value(["akamai"])
    at.button[0].click().run()

    assert not at.exception
    akamai = next(c for c in expected["by_cdn"] if c["cdn"] == "akamai")
    shown = {m.label: m.value for m in at.metric}
    assert shown["Request offload"] == ui.pct(akamai["request_offload"])
    assert shown["Requests"] == f"{akamai['requests']:,.0f}"
    cdns = frame_with(at, "cdn", "traffic_share")
    assert cdns["cdn"].tolist() == ["akamai"]


def test_a_filter_matching_nothing_says_so(page_factory, match_data):
    at = page_factory("explore", match_data).run()
    at.text_input(key="explore_search").input("no-such-template")
    at.button[0].click().run()

    assert not at.exception
    assert [w.value for w in at.warning] == ["No requests match these filters in this time range."]


def test_drill_down_of_a_flagged_template(page_factory, match_data, expected):
    at = page_factory("explore", match_data).run()
    worst = expected["flagged"][0]["path_template"]

    assert at.selectbox(key="explore_template").value == worst, "flagged templates come first"
    at.selectbox(key="explore_template").set_value(EVIL_PATH).run()
    assert not at.exception
    assert EVIL_PATH in [c.value for c in at.code]
    pops = frame_with(at, "cdn", "pop", "request_offload", "byte_offload")
    assert EVIL_POP in pops["pop"].tolist()
    per_cdn = [f for f in at.dataframe if "traffic_share" in f.value.columns][-1].value
    assert per_cdn["cdn"].tolist() == ["fastly"]
    assert per_cdn["request_offload"].tolist() == [0.0]
    assert len(at.get("vega_lite_chart")) >= 5, "offload, per-CDN and cache-status charts"


def test_an_alert_link_opens_its_template_cdn_and_window(page_factory, match_data):
    link = dashboard_link(
        "http://x",
        "/api/v1/match/{id}/score",
        "fastly",
        datetime(2025, 3, 9, 9, 0, tzinfo=UTC),
        datetime(2025, 3, 9, 9, 30, tzinfo=UTC),
    )
    assert link is not None
    at = page_factory("explore", match_data)
    for name, values in parse_qs(urlsplit(link).query).items():
        at.query_params[name] = values[0]
    at.run()

    assert not at.exception
    assert at.selectbox(key="explore_template").value == "/api/v1/match/{id}/score"
    assert at.multiselect(key="explore_cdns").value == ["fastly"]
    assert at.slider(key="explore_span").value == (
        datetime(2025, 3, 9, 9, 0),
        datetime(2025, 3, 9, 9, 30),
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [("2020-01-01T00:00:00Z", "2020-01-01T01:00:00Z"), ("2030-01-01T00:00:00Z", "junk")],
    ids=["before-the-data", "after-the-data"],
)
def test_a_link_outside_the_data_is_clamped(page_factory, match_data, start, end):
    at = page_factory("explore", match_data)
    at.query_params["from"] = start
    at.query_params["to"] = end
    at.run()

    assert not at.exception
    lo, hi = at.slider(key="explore_span").value
    assert lo < hi


def test_evidence_and_comparison_not_installed_are_notes(page_factory, match_data, monkeypatch):
    monkeypatch.setattr("dashboards.data_reports.optional", lambda module, name: None)
    import streamlit as st

    st.cache_data.clear()
    at = page_factory("explore", match_data).run()
    at.toggle(key="explore_comparison").set_value(True).run()
    st.cache_data.clear()

    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert "Cache-policy evidence is not available yet." in warnings
    assert "The multi-CDN comparison is not available yet." in warnings
