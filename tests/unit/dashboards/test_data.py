"""The data layer: unfiltered views are `analyze`, filtered views follow the same models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from dashboards import data, results
from ingest.storage import resolve
from tests.unit.dashboards.match_data import MATCH_CDNS, newest_event, whole_window
from transforms import offload
from transforms.config import load_settings

pytestmark = pytest.mark.unit
HOUR = offload.Window(
    datetime(2025, 3, 9, 10, 0, tzinfo=UTC), datetime(2025, 3, 9, 11, 0, tzinfo=UTC)
)


@pytest.fixture(scope="module")
def status(match_data) -> results.DataStatus:
    return data.data_status(str(match_data), None)


@pytest.fixture(scope="module")
def expected(match_data) -> dict:
    return offload.analyze(resolve(str(match_data)), load_settings(), HOUR)


def _view(match_data, status, window=HOUR, **filters) -> results.WindowView:
    view = data.window_view(
        str(match_data), None, "auto", status.version, window, results.Filters(**filters)
    )
    assert isinstance(view, results.WindowView)
    return view


def _without_evidence(report: dict) -> dict:
    """The report with each suggestion's evidence dropped: its medians are approximate
    (`approx_quantile`), so two runs may differ in their last digits."""
    flagged = [
        {
            **f,
            "suggestions": [
                {k: v for k, v in s.items() if k != "evidence"} for s in f["suggestions"]
            ],
        }
        for f in report["flagged"]
    ]
    return {**report, "flagged": flagged}


def test_unfiltered_report_is_analyze(match_data, status, expected):
    # data_status registered other partitions first: nothing of that may leak into this.
    assert _without_evidence(_view(match_data, status).report) == _without_evidence(expected)


def test_every_cdn_selected_is_the_same_as_no_filter(match_data, status, expected):
    report = _view(match_data, status, cdns=MATCH_CDNS).report

    assert report["overall"] == pytest.approx(expected["overall"])
    assert report["by_pop"] == expected["by_pop"]
    assert [f["path_template"] for f in report["flagged"]] == [
        f["path_template"] for f in expected["flagged"]
    ]


@pytest.mark.parametrize("cdn", MATCH_CDNS)
def test_a_cdn_filter_gives_that_cdns_figures(match_data, status, expected, cdn):
    view = _view(match_data, status, cdns=(cdn,))
    wanted = next(c for c in expected["by_cdn"] if c["cdn"] == cdn)

    assert view.report["overall"] == pytest.approx({k: v for k, v in wanted.items() if k != "cdn"})
    assert view.cdn_share["cdn"].to_list() == [cdn]
    assert view.cdn_share["traffic_share"].to_list() == [1.0]


def test_a_template_filter_gives_that_templates_figures(match_data, status, expected):
    template = expected["flagged"][0]["path_template"]
    view = _view(match_data, status, path_template=template)
    wanted = next(t for t in expected["templates"] if t["path_template"] == template)
    keys = set(view.report["overall"])

    assert view.report["overall"] == pytest.approx({k: wanted[k] for k in keys})
    assert set(view.cache_mix["cache_status"]) >= {"MISS"}
    all_cdns = view.cache_mix.filter(pl.col("cdn").is_null())
    assert all_cdns["cacheable_share"].sum() == pytest.approx(1.0)


def test_minute_series_adds_up_to_the_window(match_data, status, expected):
    view = _view(match_data, status)

    assert view.minutes.height == 60
    assert view.minutes["requests"].sum() == pytest.approx(expected["overall"]["requests"])
    assert view.minutes["spike"].dtype == pl.Boolean
    per_cdn = view.cdn_minutes.group_by("minute").agg(pl.col("traffic_share").sum())
    assert per_cdn["traffic_share"].to_list() == pytest.approx([1.0] * per_cdn.height)


def test_headline_rates_come_from_the_window(match_data, status, expected):
    h = _view(match_data, status).headline

    assert h["window_seconds"] == 3600
    assert h["origin_egress_bytes_per_s"] == pytest.approx(
        expected["overall"]["origin_bytes"] / 3600
    )
    assert h["request_offload_vs_target"] == pytest.approx(
        expected["overall"]["request_offload"] - 0.9
    )


def test_status_reports_extent_version_and_rollups(match_data, status):
    assert status.problem is None and status.first_event is not None
    assert status.newest_event == newest_event(match_data)
    assert status.first_event.replace(second=0, microsecond=0) == whole_window(match_data).start
    assert status.rollups_fresh
    assert len(status.version) == 16
    assert set(status.by_cdn["cdn"]) == set(MATCH_CDNS)


def test_live_windows_end_at_the_newest_complete_minute():
    newest = datetime(2025, 3, 9, 12, 29, 58, tzinfo=UTC)
    status = results.DataStatus("x", first_event=newest - timedelta(hours=4), newest_event=newest)
    now, history = results.live_windows(status, 15, 180)

    assert now == offload.Window(
        datetime(2025, 3, 9, 12, 14, tzinfo=UTC), datetime(2025, 3, 9, 12, 29, tzinfo=UTC)
    )
    end = datetime(2025, 3, 9, 12, 29, tzinfo=UTC)
    assert history == offload.Window(end - timedelta(minutes=180), end)


def test_live_windows_keep_a_lone_minute():
    newest = datetime(2025, 3, 9, 12, 29, 58, tzinfo=UTC)
    status = results.DataStatus(
        "x", first_event=newest - timedelta(seconds=30), newest_event=newest
    )

    assert results.live_windows(status, 15, 180)[0].end == datetime(2025, 3, 9, 12, 30, tzinfo=UTC)


def test_freshness_flags_stale_cdns():
    newest = datetime(2025, 3, 9, 12, 0, tzinfo=UTC)
    by_cdn = pl.DataFrame(
        {
            "cdn": ["akamai", "fastly"],
            "newest_event_time": [newest, newest - timedelta(minutes=10)],
            "rows": [1, 1],
        }
    )
    status = results.DataStatus("x", first_event=newest, newest_event=newest, by_cdn=by_cdn)
    fresh = results.freshness(status, 180, now=newest + timedelta(seconds=60))

    assert (fresh.age_s, fresh.stale) == (60.0, False)
    assert fresh.by_cdn["stale"].to_list() == [False, True]
    assert results.freshness(status, 30, now=newest + timedelta(seconds=60)).stale
