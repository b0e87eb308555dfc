"""Timeline pieces of the report: gap-filled minutes, spike detection, events, charts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pytest

from transforms import report_charts as charts
from transforms import report_timeline as tl

pytestmark = pytest.mark.unit
T0 = datetime(2025, 3, 9, 10, 0, tzinfo=UTC)


def _series(requests: list[float], offload: float = 0.9) -> pl.DataFrame:
    """A minute series as `minute_series` returns it, with `offload` in every minute."""
    frame = pl.DataFrame(
        {
            "minute": [T0 + timedelta(minutes=i) for i in range(len(requests))],
            "requests": requests,
            "cacheable_requests": requests,
            "origin_requests": [r * (1 - offload) for r in requests],
            **{c: [0.0] * len(requests) for c in tl.SUM_COLUMNS[3:]},
        }
    )
    return tl.with_ratios(frame)


def test_minute_series_fills_quiet_minutes_with_zeros() -> None:
    con = duckdb.connect()
    rows = {
        "minute": [T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)],
        "cdn": [None, None],
        **{c: [100.0, 50.0] for c in tl.SUM_COLUMNS},
    }
    con.register("minute_offload", pa.table(rows))

    series = tl.minute_series(con, T0, T0 + timedelta(minutes=5))

    assert series["minute"].to_list() == [T0 + timedelta(minutes=i) for i in range(5)]
    assert series["requests"].to_list() == [0.0, 100.0, 0.0, 50.0, 0.0]
    assert series["request_offload"].to_list() == [None, 0.0, None, 0.0, None]


def test_a_burst_is_one_spike_with_its_offload_and_event() -> None:
    requests = [1000.0] * 30
    requests[12:14] = [1600.0, 1400.0]
    series = _series(requests)
    series = series.with_columns(
        origin_requests=pl.when(pl.col("requests") > 1000)
        .then(pl.col("requests") * 0.3)
        .otherwise(pl.col("origin_requests"))
    )
    events = [{"name": "wicket", "time": T0 + timedelta(minutes=11, seconds=40)}]

    spikes, summary = tl.detect_spikes(tl.mark_spikes(series), events)

    assert len(spikes) == 1
    spike = spikes[0]
    assert (spike["start"], spike["end"]) == ("2025-03-09T10:12:00Z", "2025-03-09T10:14:00Z")
    assert spike["peak_minute"] == "2025-03-09T10:12:00Z"
    assert spike["peak_ratio"] == pytest.approx(1.6)
    assert spike["request_offload"] == pytest.approx(0.7)
    assert spike["events"] == ["wicket"]
    assert summary["spike_minutes"] == 2
    assert summary["offload_in_spikes"] == pytest.approx(0.7)
    assert summary["offload_elsewhere"] == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("requests", "expected"),
    [
        pytest.param([5.0] * 10 + [9.0] + [5.0] * 10, 0, id="thin-traffic-noise"),
        pytest.param([1000.0] * 10 + [1150.0] + [1000.0] * 10, 0, id="below-ratio"),
        pytest.param([float(100 + 10 * i) for i in range(40)], 0, id="steady-ramp"),
        pytest.param([0.0] * 21, 0, id="no-traffic"),
        pytest.param([1000.0] * 10 + [1300.0] + [1000.0] * 10, 1, id="clear-spike"),
    ],
)
def test_spike_rule(requests: list[float], expected: int) -> None:
    spikes, _ = tl.detect_spikes(tl.mark_spikes(_series(requests)), [])

    assert len(spikes) == expected


def test_empty_series_has_no_spikes() -> None:
    spikes, summary = tl.detect_spikes(tl.mark_spikes(_series([])), [])

    assert spikes == []
    assert summary["spike_minutes"] == 0
    assert summary["offload_in_spikes"] is None


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(
            {"timeline": [{"event": "toss", "kind": "toss", "time": "2025-03-09T10:05:00Z"}]},
            id="match-json",
        ),
        pytest.param([{"name": "toss", "time": "2025-03-09T10:05:00"}], id="list-naive-utc"),
        pytest.param(
            {"events": [{"name": "toss", "time": "2025-03-09T15:35:00+05:30"}]}, id="offset"
        ),
    ],
)
def test_events_are_read_in_the_accepted_shapes(tmp_path: Path, document: Any) -> None:
    path = tmp_path / "events.json"
    path.write_text(json.dumps(document))

    (event,) = tl.load_events(path)

    assert event["name"] == "toss"
    assert event["time"] == T0 + timedelta(minutes=5)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("not json", id="not-json"),
        pytest.param('{"other": []}', id="no-list"),
        pytest.param('[{"name": "x", "time": "yesterday"}]', id="bad-time"),
        pytest.param('[{"time": "2025-03-09T10:00:00Z"}]', id="no-name"),
    ],
)
def test_bad_event_files_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "events.json"
    path.write_text(text)

    with pytest.raises(ValueError, match=r"events|event 0"):
        tl.load_events(path)


def test_long_series_are_drawn_from_summed_buckets() -> None:
    minutes = [
        {
            "minute": (T0 + timedelta(minutes=i)).isoformat().replace("+00:00", "Z"),
            "requests": 10.0,
            "origin_requests": 1.0,
            "cacheable_requests": 10.0,
            "request_offload": 0.9,
        }
        for i in range(3 * 24 * 60)
    ]

    rows, size = charts.bucket(minutes, ["requests", "origin_requests", "cacheable_requests"])
    svg = str(charts.timeline_chart(minutes, [], [], 0.9))

    assert len(rows) <= charts.MAX_POINTS
    assert sum(r["requests"] for r in rows) == pytest.approx(10.0 * len(minutes))
    assert all(r["request_offload"] == pytest.approx(0.9) for r in rows)
    assert size == 6
    assert svg.startswith("<svg") and svg.count(" L") < 4 * charts.MAX_POINTS


def test_cdn_colours_are_fixed_per_vendor() -> None:
    assert charts.cdn_colour("fastly") == charts.cdn_colour("fastly", ["akamai", "fastly"])
    assert charts.cdn_colour("mycdn", ["mycdn", "other"]) != charts.cdn_colour(
        "other", ["mycdn", "other"]
    )
