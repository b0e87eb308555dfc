"""Delivery: retries with backoff and jitter, background queues, failing sinks, metrics."""

from __future__ import annotations

import random
import threading
import urllib.request

import pytest

from transforms.alert_delivery import (
    DeliveryError,
    DeliveryStats,
    Dispatcher,
    QueuedSink,
    RetryPolicy,
    deliver_with_retries,
)
from transforms.alert_metrics import AlertMetrics, FlaggedSeries, MetricsServer

pytestmark = pytest.mark.unit
NOTE = {"at": "2025-03-09T10:13:00Z", "alerts": []}


class FlakySink:
    """Fails the first `failures` sends with `error`, then records what it gets."""

    def __init__(self, failures: int, error: Exception | None = None, name: str = "flaky") -> None:
        self.name = name
        self.failures = failures
        self.error = error or DeliveryError("HTTP 503", retry=True)
        self.calls = 0
        self.received: list[dict] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def send(self, notification: dict) -> None:
        self.entered.set()
        self.gate.wait(5)
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        self.received.append(notification)

    def close(self) -> None:
        return None


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    policy = RetryPolicy(attempts=6, initial_s=1.0, max_s=5.0)
    rng = random.Random(7)

    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (5, 5.0)]:
        delays = [policy.delay_s(attempt, rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert len(set(delays)) > 100  # jittered, not a fixed schedule


def test_retries_until_delivered() -> None:
    sink, stats = FlakySink(failures=2), DeliveryStats()
    sleeps: list[float] = []

    ok = deliver_with_retries(sink, NOTE, RetryPolicy(5, 0.1, 1.0), stats, sleep=sleeps.append)

    assert ok and sink.received == [NOTE] and sink.calls == 3
    assert (stats.delivered, stats.failed, stats.retries) == (1, 0, 2)
    assert 0.05 <= sleeps[0] <= 0.1 and 0.1 <= sleeps[1] <= 0.2


def test_gives_up_after_the_last_attempt() -> None:
    sink, stats = FlakySink(failures=99), DeliveryStats()

    ok = deliver_with_retries(sink, NOTE, RetryPolicy(3, 0.01, 0.01), stats, sleep=lambda s: None)

    assert not ok and sink.calls == 3
    assert (stats.delivered, stats.failed, stats.consecutive_failures) == (0, 1, 1)


def test_a_rejected_payload_is_not_retried() -> None:
    sink = FlakySink(failures=99, error=DeliveryError("HTTP 400", retry=False))
    stats = DeliveryStats()

    assert not deliver_with_retries(
        sink, NOTE, RetryPolicy(5, 0.01, 0.01), stats, sleep=lambda s: None
    )
    assert sink.calls == 1


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    sink = FlakySink(failures=1, error=DeliveryError("HTTP 429", retry=True, retry_after_s=60))
    sleeps: list[float] = []

    deliver_with_retries(sink, NOTE, RetryPolicy(3, 0.1, 2.0), DeliveryStats(), sleep=sleeps.append)

    assert sleeps == [2.0]


def test_queued_sink_never_blocks_and_drops_the_oldest_when_full() -> None:
    sink = FlakySink(failures=0)
    sink.gate.clear()  # the receiver hangs
    queued = QueuedSink(sink, RetryPolicy(1, 0.01, 0.01), queue_max=2)
    notes = [{"n": i} for i in range(5)]
    queued.send(notes[0])
    assert sink.entered.wait(5)  # the worker is stuck delivering the first

    for note in notes[1:]:
        queued.send(note)  # returns at once although nothing is delivered
    sink.gate.set()
    queued.close(timeout_s=5)

    assert sink.received == [notes[0], notes[3], notes[4]]
    assert queued.stats.dropped == 2


def test_sink_that_keeps_failing_is_reported_not_fatal(caplog) -> None:
    sink = FlakySink(failures=99, name="webhook:http://down/…")
    queued = QueuedSink(sink, RetryPolicy(2, 0.001, 0.001), failing_after=2)
    dispatcher = Dispatcher([queued])

    for _ in range(3):
        dispatcher.dispatch(NOTE)
    queued.close(timeout_s=5)

    stats = dispatcher.stats()["webhook:http://down/…"]
    assert (stats.failed, stats.delivered, stats.failing) == (3, 0, True)
    assert [r.levelname for r in caplog.records if "keeps failing" in r.message] == ["ERROR"]


def test_direct_sinks_failures_are_counted() -> None:
    broken = FlakySink(failures=99, error=OSError("disk full"), name="jsonl")
    dispatcher = Dispatcher([broken])

    dispatcher.dispatch(NOTE)

    assert dispatcher.stats()["jsonl"].failed == 1


def _flagged(i: int, firing: bool = False) -> FlaggedSeries:
    return FlaggedSeries(f"/t{i}", "all", "P3", firing, 0.5, 1.0, i / 100)


def test_metrics_are_bounded_and_escaped() -> None:
    metrics = AlertMetrics(
        top_series=3, delivery_stats=lambda: {"slack": DeliveryStats(delivered=2)}
    )
    nasty = FlaggedSeries('/a"b\\c\n', "cloudflare", "P1", True, 0.25, 3.5, 0.9)
    metrics.update(
        threshold=0.9,
        last_window_end_s=1741514580.0,
        firing_by_severity={"P1": 1},
        flagged=[nasty, *(_flagged(i) for i in range(10))],
    )

    text = metrics.render()

    assert text.count("cdn_offload_alert_request_offload{") == 3
    assert (
        'cdn_offload_alert_request_offload{cdn="cloudflare",template="/a\\"b\\\\c\\n"} 0.25' in text
    )
    assert 'cdn_offload_alert_request_offload{cdn="all",template="/t9"} 0.5' in text
    assert "cdn_offload_alert_flagged_series_left_out 8.0" in text
    assert 'cdn_offload_alert_alerts_firing{severity="P1"} 1.0' in text
    assert 'cdn_offload_alert_alerts_firing{severity="P2"} 0.0' in text
    assert 'cdn_offload_alert_deliveries_total{outcome="delivered",sink="slack"} 2.0' in text
    assert "cdn_offload_alert_threshold 0.9" in text


def test_metrics_server_serves_metrics_and_health() -> None:
    metrics = AlertMetrics()
    server = MetricsServer(metrics, port=0)
    try:
        base = f"http://127.0.0.1:{server.port}"
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
            assert "cdn_offload_alert_threshold" in response.read().decode()
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
            assert response.status == 200
    finally:
        server.close()
