"""The live evaluator over hand-made rollups: which windows each cycle evaluates, restarts,
metrics, the watch loop and the alert list dashboards read."""

from __future__ import annotations

import logging
import threading

import pytest

from ingest.storage import resolve
from tests.unit.transforms.alert_builders import minute, series, steady, write_rollups
from transforms.alert_config import load_alert_settings
from transforms.alert_delivery import Dispatcher
from transforms.alert_metrics import AlertMetrics
from transforms.alert_state import load_state
from transforms.alert_watch import AlertEvaluator, watch
from transforms.alerts import read_alerts, state_location
from transforms.config import load_settings
from transforms.errors import TransformError

pytestmark = pytest.mark.unit
V = "/live/{event}/{rendition}/index.m3u8"


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.notifications: list[dict] = []

    def send(self, notification: dict) -> None:
        self.notifications.append(notification)

    def close(self) -> None:
        return None

    def events(self) -> list[tuple[str, str, str]]:
        return [
            (n["at"][11:16], a["event"], a["scope"])
            for n in self.notifications
            for a in n["alerts"]
        ]


@pytest.fixture
def data_dir(tmp_path):
    """40 minutes of V on two CDNs; cloudflare misses 70% in minutes 10-19 (fires 13, resolves 27)."""
    cloudflare = [*steady(95, 5, 10), *steady(30, 70, 10), *steady(95, 5, 20)]
    rows = [*series(V, "cloudfront", steady(95, 5, 40)), *series(V, "cloudflare", cloudflare)]
    return write_rollups(tmp_path / "data", rows)


def _evaluator(data_dir, recorder=None, metrics=None, **settings):
    alert_settings = load_alert_settings(
        **{"min_requests": 100, "renotify_interval_s": 0, **settings}
    )
    return AlertEvaluator(
        resolve(str(data_dir)),
        load_settings(),
        alert_settings,
        Dispatcher([recorder or Recorder()]),
        metrics,
        maintain_rollups=False,
    )


def test_cycles_evaluate_only_windows_completed_since_the_last(data_dir) -> None:
    recorder = Recorder()
    evaluator = _evaluator(data_dir, recorder)

    first = evaluator.run_cycle(until=minute(12))
    second = evaluator.run_cycle(until=minute(13))
    third = evaluator.run_cycle(until=minute(13))

    assert (first.windows, first.notifications, first.last_window_end) == (12, [], minute(12))
    assert (second.windows, second.firing) == (1, 2)
    assert (third.windows, third.notifications) == (0, [])
    assert recorder.events() == [("10:13", "firing", "all"), ("10:13", "firing", "cloudflare")]


def test_newest_minute_waits_for_late_deliveries(data_dir) -> None:
    # Data up to minute 39: with 1 settle minute the newest window ends at 39, not 40.
    assert _evaluator(data_dir).run_cycle().last_window_end == minute(39)
    assert _evaluator(
        data_dir, settle_minutes=0, state_path=str(data_dir / "s0.json")
    ).run_cycle().last_window_end == minute(40)


def test_first_cycle_catches_up_a_bounded_number_of_windows(data_dir) -> None:
    result = _evaluator(data_dir, max_catchup_windows=10).run_cycle()

    assert result.windows == 10  # windows ending 30..39
    assert result.last_window_end == minute(39)


def test_restarted_evaluator_neither_fires_again_nor_forgets(data_dir) -> None:
    before, after = Recorder(), Recorder()
    _evaluator(data_dir, before).run_cycle(until=minute(15))

    result = _evaluator(data_dir, after).run_cycle()

    assert before.events() == [("10:13", "firing", "all"), ("10:13", "firing", "cloudflare")]
    assert after.events() == [("10:27", "resolved", "all"), ("10:27", "resolved", "cloudflare")]
    assert result.firing == 0


def test_a_long_pause_restarts_pending_streaks(data_dir, caplog) -> None:
    caplog.set_level(logging.INFO)
    recorder = Recorder()
    evaluator = _evaluator(data_dir, recorder, max_catchup_windows=5)
    evaluator.run_cycle(until=minute(12))  # windows 8..12: breaches at 11 and 12, pending

    evaluator.run_cycle(until=minute(22))  # 13..17 are skipped, 18..22 evaluated

    # Not a third breach in a row at 18: the streak starts over there and fires at 20.
    assert recorder.events() == [("10:20", "firing", "all"), ("10:20", "firing", "cloudflare")]
    assert {s.since for s in evaluator.state.series.values()} == {minute(18)}
    assert any("skipped" in r.message for r in caplog.records)


def test_metrics_follow_the_newest_window(data_dir) -> None:
    metrics = AlertMetrics(top_series=1)
    evaluator = _evaluator(data_dir, metrics=metrics)

    evaluator.run_cycle(until=minute(14))

    text = metrics.render()
    # Two series are flagged (all CDNs and cloudflare); the bound keeps the larger origin share.
    assert text.count("cdn_offload_alert_request_offload{") == 1
    assert 'cdn="all"' in text
    assert "cdn_offload_alert_flagged_series_left_out 1.0" in text
    assert 'cdn_offload_alert_alerts_firing{severity="P1"} 2.0' in text


def test_watch_survives_transient_failures(data_dir, monkeypatch) -> None:
    evaluator = _evaluator(data_dir, metrics=AlertMetrics())
    calls = []

    def flaky(until=None):
        calls.append(until)
        if len(calls) == 1:
            raise OSError("S3 throttled")
        raise KeyboardInterrupt  # second cycle: stop the test loop

    monkeypatch.setattr(evaluator, "run_cycle", flaky)
    with pytest.raises(KeyboardInterrupt):
        watch(evaluator, 0.01)

    assert len(calls) == 2
    assert "cdn_offload_alert_cycle_failures_total 1.0" in evaluator.metrics.render()


def test_watch_stops_on_terminal_errors_and_when_told(data_dir, monkeypatch) -> None:
    evaluator = _evaluator(data_dir)
    stop = threading.Event()
    stop.set()
    watch(evaluator, 60, stop=stop)  # one cycle, then the stop is seen
    assert evaluator.state.last_window_end == minute(39)

    def broken(until=None):
        raise TransformError("bad")

    monkeypatch.setattr(evaluator, "run_cycle", broken)
    with pytest.raises(TransformError):
        watch(evaluator, 0.01)


def test_read_alerts_lists_firing_then_resolved(data_dir) -> None:
    alert_settings = load_alert_settings(min_requests=100)
    data = resolve(str(data_dir))
    assert read_alerts(data, alert_settings) == []

    _evaluator(data_dir).run_cycle(until=minute(20))
    firing = read_alerts(data, alert_settings)
    _evaluator(data_dir).run_cycle()
    resolved = read_alerts(data, alert_settings)

    assert [(a["status"], a["scope"]) for a in firing] == [
        ("firing", "all"),
        ("firing", "cloudflare"),
    ]
    assert [(a["status"], a["resolved_at"]) for a in resolved] == [
        ("resolved", "2025-03-09T10:27:00Z"),
        ("resolved", "2025-03-09T10:27:00Z"),
    ]
    assert state_location(data, alert_settings).path.endswith("/alerts/state.json")
    assert load_state(state_location(data, alert_settings)).last_window_end == minute(39)
