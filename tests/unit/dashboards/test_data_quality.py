"""Data-quality page: ingested and quarantined rows, validation results, ingest lag."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pyarrow.dataset as ds
import pytest
import streamlit as st

from ingest.config import load_settings
from ingest.file_source import ingest_files
from tests.unit.dashboards.support import frame_with
from transforms import quality
from transforms.quality import store_validation, validate

pytestmark = pytest.mark.unit


def test_rows_per_source_equal_the_raw_files(page_factory, match_data):
    at = page_factory("data_quality", match_data).run()
    rows = ds.dataset(str(match_data / "raw"), format="parquet").count_rows()
    quarantined = quality.quarantine_summary(str(match_data))["records"].to_pylist()

    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Rows ingested"] == f"{rows:,}"
    assert shown["Lines quarantined"] == f"{sum(quarantined):,}"
    sources = frame_with(at, "source", "rows", "quarantined")
    assert sources["rows"].sum() == rows
    assert {"cloudfront", "fastly", "akamai", "cloudflare"} <= set(sources["cdn"])
    assert not frame_with(at, "cdn", "newest_event_time", "lag_s").empty


def test_without_validation_the_page_says_how_to_run_it(page_factory, match_data):
    at = page_factory("data_quality", match_data).run()

    assert "No validation has run on this data yet. Run the expectation suite:" in [
        i.value for i in at.info
    ]
    assert f"cdn-offload validate --data {match_data}" in [c.value for c in at.code]


def test_validation_results_and_quarantine_are_shown(page_factory, gappy_data):
    _quarantine(gappy_data)
    result = validate(str(gappy_data), now=datetime(2025, 3, 10, tzinfo=UTC))
    store_validation(str(gappy_data), result)
    st.cache_data.clear()
    at = page_factory("data_quality", gappy_data).run()
    at.toggle(key="dq_samples").set_value(True).run()

    assert not at.exception
    stored = quality.latest_validation(str(gappy_data))
    assert stored is not None
    checks = frame_with(at, "name", "success", "unexpected_count")
    assert checks["name"].tolist() == [c["name"] for c in stored["checks"]]
    assert checks["success"].tolist() == [c["success"] for c in stored["checks"]]
    reasons = frame_with(at, "reason_code", "records")
    assert reasons["reason_code"].tolist() == ["missing_field"]
    assert reasons["records"].tolist() == [2]


def _quarantine(data_dir) -> None:
    """Two quarantined lines written through the real file ingest."""
    logs = data_dir.parent / "bad-logs"
    logs.mkdir(exist_ok=True)
    bad = logs / "E2BAD.2025-03-09-10.deadbeef.gz"
    bad.write_bytes(gzip.compress(b"#Version: 1.0\n#Fields: date time\nnot a line\nnor this\n"))
    ingest_files([str(bad)], load_settings(out=str(data_dir), format="cloudfront_standard"))
