"""Alert windows over hand-made minute rollups: sliding sums, eligibility, scopes, severity,
and the whole replay (SQL plus hysteresis) with fire and resolve times worked out by hand.

Rows come from alert_builders: (hits, misses) per minute, 100 bytes per request.
"""

from __future__ import annotations

import pytest

from ingest.storage import resolve
from tests.unit.transforms.alert_builders import minute, series, steady, write_rollups
from transforms.alert_config import load_alert_settings
from transforms.alert_state import series_key
from transforms.alert_windows import evaluate_windows, rollup_extent
from transforms.alerts import replay
from transforms.config import load_settings

pytestmark = pytest.mark.unit
V = "/live/{event}/{rendition}/index.m3u8"
W = "/api/v1/match/{id}/score"


def _windows(data_dir, first: int, last: int, tracked=(), **alert_settings):
    settings = load_alert_settings(**{"min_requests": 100, **alert_settings})
    windows = evaluate_windows(
        resolve(str(data_dir)), load_settings(), settings, minute(first), minute(last), tracked
    )
    return {int((w.end - minute(0)).total_seconds() // 60): w for w in windows}


def test_window_sums_the_minutes_of_its_half_open_range(tmp_path) -> None:
    # Minute i: 100 requests, i of them misses.
    write_rollups(tmp_path, series(V, "cloudfront", [(100 - i, i) for i in range(10)]))

    windows = _windows(tmp_path, 5, 10)

    assert sorted(windows) == [5, 6, 7, 8, 9, 10]
    first = windows[5].rows[series_key(V, None)]
    assert (first["window_start"], first["window_end"]) == (minute(0), minute(5))
    assert first["cacheable_requests"] == 500
    assert first["origin_requests"] == 0 + 1 + 2 + 3 + 4
    assert first["request_offload"] == pytest.approx(1 - 10 / 500)
    assert first["origin_requests_per_s"] == pytest.approx(10 / 300)
    last = windows[10].rows[series_key(V, "cloudfront")]
    assert last["origin_requests"] == 5 + 6 + 7 + 8 + 9
    assert last["byte_offload"] == pytest.approx(1 - 35 / 500)


def test_window_length_is_configurable(tmp_path) -> None:
    write_rollups(tmp_path, series(V, "cloudfront", steady(95, 5, 10)))

    row = _windows(tmp_path, 10, 10, window_minutes=2)[10].rows[series_key(V, None)]

    assert (row["window_start"], row["cacheable_requests"]) == (minute(8), 200)
    assert row["origin_requests_per_s"] == pytest.approx(10 / 120)


def test_cdn_scope_breaches_only_while_another_cdn_is_healthy(tmp_path) -> None:
    rows = [
        *series(V, "cloudfront", steady(95, 5, 5)),
        *series(V, "cloudflare", steady(40, 60, 5)),
        *series(W, "cloudfront", steady(50, 50, 5)),
        *series(W, "cloudflare", steady(50, 50, 5)),
    ]
    write_rollups(tmp_path, rows)

    window = _windows(tmp_path, 5, 5)[5].rows
    breaching = {(r["path_template"], r["cdn"]) for r in window.values() if r["breaching"]}

    # V over all CDNs: (475 + 200) / 1000 = 0.675. W is as bad everywhere: the template's.
    assert breaching == {(V, None), (V, "cloudflare"), (W, None)}
    assert window[series_key(V, "cloudfront")]["healthy"]
    assert not window[series_key(W, "cloudflare")]["healthy"]


def test_series_need_min_requests_unless_tracked(tmp_path) -> None:
    rows = [*series(V, "cloudfront", steady(950, 50, 5)), *series(W, "cloudfront", steady(5, 5, 5))]
    write_rollups(tmp_path, rows)

    plain = _windows(tmp_path, 5, 5)[5].rows
    tracked = _windows(tmp_path, 5, 5, tracked=[(W, None)])[5].rows

    assert series_key(W, None) not in plain
    small = tracked[series_key(W, None)]
    assert (small["eligible"], small["breaching"], small["healthy"]) == (False, False, False)
    assert series_key(W, "cloudfront") not in tracked


def test_series_eligible_in_an_earlier_window_of_the_run_stay_in_later_ones(tmp_path) -> None:
    write_rollups(tmp_path, series(W, "cloudfront", [*steady(50, 50, 5), *steady(1, 1, 5)]))

    windows = _windows(tmp_path, 5, 10)

    assert windows[5].rows[series_key(W, None)]["breaching"]
    late = windows[10].rows[series_key(W, None)]
    assert (late["eligible"], late["healthy"], late["cacheable_requests"]) == (False, False, 10)


def test_severity_follows_the_share_of_origin_load(tmp_path) -> None:
    # Origin requests per minute: big 60, mid 10, low 2, plus 28 from a healthy template.
    rows = [
        *series("/big", "cloudfront", steady(40, 60, 5)),
        *series("/mid", "cloudfront", steady(10, 10, 5)),
        *series("/low", "cloudfront", steady(18, 2, 5)),
        *series("/fine", "cloudfront", steady(972, 28, 5)),
    ]
    write_rollups(tmp_path, rows)

    window = _windows(tmp_path, 5, 5, min_requests=50)[5].rows

    assert {t: window[series_key(t, None)]["severity"] for t in ("/big", "/mid", "/low")} == {
        "/big": "P1",
        "/mid": "P2",
        "/low": "P3",
    }
    assert window[series_key("/big", None)]["origin_load_share"] == pytest.approx(0.6)


def test_severity_overrides_first_match_wins_and_ignore_mutes(tmp_path) -> None:
    rows = [
        *series("/big", "cloudfront", steady(40, 60, 5)),
        *series("/big", "fastly", steady(40, 60, 5)),
        *series("/low", "cloudfront", steady(18, 2, 5)),
        *series("/api/v1/users/{uuid}/prefs", "cloudfront", steady(0, 20, 5)),
    ]
    write_rollups(tmp_path, rows)
    overrides = [
        {"pattern": "^/low$", "severity": "P1"},
        {"pattern": "^/big", "severity": "P3", "cdn": "fastly"},
        {"pattern": "^/big", "severity": "P2"},
        {"pattern": "/users/{uuid}/", "severity": "ignore"},
    ]

    window = _windows(tmp_path, 5, 5, min_requests=50, severity_overrides=overrides)[5].rows

    severity = {(r["path_template"], r["cdn"]): r["severity"] for r in window.values()}
    assert severity == {
        ("/big", None): "P2",
        ("/big", "cloudfront"): "P2",
        ("/big", "fastly"): "P3",
        ("/low", None): "P1",
        ("/low", "cloudfront"): "P1",
    }


def _problem_mid_match(tmp_path):
    """V: 100 requests a minute on each CDN; on cloudflare 70 misses a minute in minutes 10-19."""
    cloudflare = [*steady(95, 5, 10), *steady(30, 70, 10), *steady(95, 5, 20)]
    rows = [*series(V, "cloudfront", steady(95, 5, 40)), *series(V, "cloudflare", cloudflare)]
    return write_rollups(tmp_path, rows)


def test_replay_fires_and_resolves_when_worked_out_by_hand(tmp_path) -> None:
    data = resolve(str(_problem_mid_match(tmp_path)))
    alert_settings = load_alert_settings(min_requests=100, renotify_interval_s=0)

    result = replay(data, load_settings(), alert_settings)

    # A window holding one bad minute breaches: cloudflare (4*95 + 30) / 500 = 0.82,
    # all CDNs (9*95 + 30) / 1000 = 0.885. Windows ending at 11..24 hold one; the third
    # fires (13), the third healthy one after them resolves (27).
    timeline = [
        (n["at"], a["event"], a["scope"], a["since"])
        for n in result["notifications"]
        for a in n["alerts"]
    ]
    assert timeline == [
        ("2025-03-09T10:13:00Z", "firing", "all", "2025-03-09T10:11:00Z"),
        ("2025-03-09T10:13:00Z", "firing", "cloudflare", "2025-03-09T10:11:00Z"),
        ("2025-03-09T10:27:00Z", "resolved", "all", "2025-03-09T10:11:00Z"),
        ("2025-03-09T10:27:00Z", "resolved", "cloudflare", "2025-03-09T10:11:00Z"),
    ]
    assert (result["windows"], result["firing_at_end"]) == (40, [])
    fired = result["notifications"][0]["alerts"][1]
    # Figures of the window that fired, minutes 8-12: three bad minutes on cloudflare.
    assert fired["request_offload"] == pytest.approx((2 * 95 + 3 * 30) / 500)
    assert fired["origin_requests_per_s"] == pytest.approx((2 * 5 + 3 * 70) / 300)
    assert fired["window"] == {"from": "2025-03-09T10:08:00Z", "to": "2025-03-09T10:13:00Z"}
    assert fired["threshold"] == 0.9


def test_replay_respects_from_and_to(tmp_path) -> None:
    data = resolve(str(_problem_mid_match(tmp_path)))
    alert_settings = load_alert_settings(min_requests=100)

    result = replay(data, load_settings(), alert_settings, minute(0), minute(20))

    assert (result["from"], result["to"], result["windows"]) == (minute(0), minute(20), 20)
    assert [a["scope"] for a in result["firing_at_end"]] == ["all", "cloudflare"]


def test_windows_without_data_change_no_streak(tmp_path) -> None:
    # Bad before and after a 10-minute hole in the feed: the alert must not resolve in it.
    bad = steady(50, 50, 10)
    write_rollups(
        tmp_path, [*series(W, "cloudfront", bad), *series(W, "cloudfront", bad, first=20)]
    )
    alert_settings = load_alert_settings(min_requests=100, resolve_after_windows=2)

    result = replay(resolve(str(tmp_path)), load_settings(), alert_settings)

    events = [(a["event"], a["scope"]) for n in result["notifications"] for a in n["alerts"]]
    assert events == [("firing", "all")]
    assert result["windows"] == 30 - 6  # windows ending at minutes 15-20 hold no minute


def test_rollup_extent(tmp_path) -> None:
    assert rollup_extent(resolve(str(tmp_path))) is None
    write_rollups(tmp_path, series(V, "cloudfront", steady(1, 0, 90)))

    assert rollup_extent(resolve(str(tmp_path))) == (minute(0), minute(89))
