"""Post-match page: the window's figures equal `analyze`; the report and its downloads."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime

import pytest
import streamlit as st

from dashboards import ui
from dashboards.data_reports import Report, analysis_downloads, post_match_report
from dashboards.results import Problem
from ingest.storage import resolve
from tests.unit.dashboards.match_data import whole_window
from tests.unit.dashboards.support import frame_with
from transforms import offload
from transforms.config import load_settings

pytestmark = pytest.mark.unit


def test_window_figures_and_worst_templates_equal_analyze(page_factory, match_data):
    at = page_factory("post_match", match_data).run()
    expected = offload.analyze(resolve(str(match_data)), load_settings(), whole_window(match_data))

    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Request offload"] == ui.pct(expected["overall"]["request_offload"])
    assert shown["Origin requests"] == f"{expected['overall']['origin_requests']:,.0f}"
    flags = frame_with(at, "severity", "path_template", "origin_load_share")
    assert flags["path_template"].tolist() == [f["path_template"] for f in expected["flagged"]]
    assert [b.label for b in at.get("download_button")] == ["CSV", "JSON"]


def test_a_chosen_window_is_reported(page_factory, match_data):
    at = page_factory("post_match", match_data).run()
    start, end = datetime(2025, 3, 9, 9, 0), datetime(2025, 3, 9, 10, 0)
    at.datetime_input(key="pm_from").set_value(start)
    at.datetime_input(key="pm_to").set_value(end).run()
    window = offload.Window.aligned(start, end)
    expected = offload.analyze(resolve(str(match_data)), load_settings(), window)

    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Requests"] == f"{expected['overall']['requests']:,.0f}"
    assert shown["Byte offload"] == ui.pct(expected["overall"]["byte_offload"])


def test_an_empty_window_says_so(page_factory, gappy_data):
    at = page_factory("post_match", gappy_data).run()
    at.datetime_input(key="pm_from").set_value(datetime(2025, 3, 9, 11, 0))
    at.datetime_input(key="pm_to").set_value(datetime(2025, 3, 9, 12, 0)).run()

    assert not at.exception
    assert [w.value for w in at.warning] == ["No requests in this window."]


def test_an_inverted_window_says_so(page_factory, gappy_data):
    at = page_factory("post_match", gappy_data).run()
    at.datetime_input(key="pm_from").set_value(datetime(2025, 3, 9, 12, 0))
    at.datetime_input(key="pm_to").set_value(datetime(2025, 3, 9, 11, 0)).run()

    assert not at.exception
    assert [w.value for w in at.warning] == ["Choose a window whose end is after its start."]


def test_full_report_on_request_with_its_downloads(page_factory, match_data):
    at = page_factory("post_match", match_data).run()
    at.toggle(key="pm_full").set_value(True).run()

    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["CSV", "JSON", "HTML report", "CSV", "JSON"]
    assert {"Capacity for the next match", "Data quality"} <= {s.value for s in at.subheader}


def test_report_document_carries_the_analyze_figures(match_data):
    window = whole_window(match_data)
    report = post_match_report(str(match_data), None, "auto", "test", window)
    expected = offload.analyze(resolve(str(match_data)), load_settings(), window)

    assert isinstance(report, Report) and report.full
    doc = json.loads(report.json)
    assert doc["analysis"]["overall"] == pytest.approx(expected["overall"])
    assert report.html is not None and b"<script>alert(1)</script>" not in report.html
    with zipfile.ZipFile(io.BytesIO(report.csv)) as archive:
        assert "flagged.csv" in archive.namelist()


def test_without_the_report_module_the_analysis_is_still_downloadable(match_data, monkeypatch):
    monkeypatch.setattr("dashboards.data_reports.optional", lambda module, name: None)
    st.cache_data.clear()
    window = whole_window(match_data)
    report = post_match_report(str(match_data), None, "auto", "test", window)
    st.cache_data.clear()
    analysis = offload.analyze(resolve(str(match_data)), load_settings(), window)
    downloads = analysis_downloads(analysis)

    assert isinstance(report, Problem)
    assert report.title == "The full post-match report is not available yet."
    assert downloads.csv.startswith(b"section,scope,cdn")
    assert json.loads(downloads.json)["window"]["from"] == "2025-03-09T08:30:00Z"
