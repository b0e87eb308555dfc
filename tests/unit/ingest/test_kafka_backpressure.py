"""Back-pressure and backoff of the Kafka source, with a stand-in consumer."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ingest.health import Metrics
from ingest.kafka_batch import OffsetRange, PartitionBuffer
from ingest.kafka_group import Backoff, backpressure

pytestmark = pytest.mark.unit


class FakeConsumer:
    def __init__(self, assignment):
        self._assignment = set(assignment)
        self._paused: set = set()

    def assignment(self):
        return set(self._assignment)

    def paused(self):
        return set(self._paused)

    def pause(self, *tps):
        self._paused |= set(tps)

    def resume(self, *tps):
        self._paused -= set(tps)


def _source(buffers, buffer_max_bytes=1000, retry_at=0.0):
    return SimpleNamespace(
        _buffers=buffers,
        _write_retry_at=retry_at,
        kafka=SimpleNamespace(buffer_max_bytes=buffer_max_bytes),
        metrics=Metrics(),
    )


def test_full_buffers_pause_all_but_partitions_finishing_a_replay():
    normal = PartitionBuffer("t", 0)
    normal.add([b"x" * 800], [0], now_s=0)
    replaying = PartitionBuffer("t", 1, [OffsetRange(0, 9)])
    replaying.add([b"y" * 300], [0], now_s=0)
    consumer = FakeConsumer({"p0", "p1", "p2"})
    source = _source({"p0": normal, "p1": replaying})
    backpressure(source, consumer, now=0)
    assert consumer.paused() == {"p0", "p2"}
    assert source.metrics.paused_partitions == 2
    normal.drop(normal.peek())
    backpressure(source, consumer, now=1)
    assert consumer.paused() == set() and source.metrics.paused_partitions == 0


def test_failing_writes_pause_everything_until_the_retry():
    consumer = FakeConsumer({"p0", "p1"})
    source = _source({}, retry_at=10.0)
    backpressure(source, consumer, now=5)
    assert consumer.paused() == {"p0", "p1"}
    backpressure(source, consumer, now=11)
    assert consumer.paused() == set()


def test_backoff_grows_exponentially_with_jitter_and_resets():
    backoff = Backoff(0.5, 4.0)
    delays = [backoff.next() for _ in range(6)]
    for n, delay in enumerate(delays):
        ceiling = min(4.0, 0.5 * 2**n)
        assert ceiling / 2 <= delay <= ceiling
    backoff.reset()
    assert backoff.next() <= 0.5
