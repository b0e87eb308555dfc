"""Partitions taken away in a rebalance are flushed and committed before they go."""

from __future__ import annotations

import polars as pl
import pytest

from ingest.kafka_source import KafkaSource
from tests.integration.kafka.support import (
    SAMPLES,
    Background,
    range_records,
    read_table,
    wait_for,
)

pytestmark = pytest.mark.integration

LINES = [
    line
    for line in (SAMPLES / "cloudfront" / "live_match.log").read_bytes().splitlines()
    if not line.startswith(b"#")
]


def _send(producer, topic: str) -> None:
    for i, line in enumerate(LINES):
        producer.send(topic, line, partition=i % 2)
    producer.flush()


def test_revoked_partitions_are_flushed_and_committed_before_they_move(
    topic_factory, producer, kafka_settings_factory, ingest_settings_factory
):
    topic = topic_factory(partitions=2)
    ingest = ingest_settings_factory()
    # Nothing is written by size or age: only the rebalance (or the stop) flushes.
    kafka = kafka_settings_factory({topic: "cloudfront_standard"}, flush_interval_s=3600)
    first = KafkaSource(ingest, kafka)
    first_run = Background(first.run)
    wait_for(lambda: first.metrics.assigned_partitions == 2, 30)
    _send(producer, topic)
    wait_for(lambda: first.metrics.consumed[topic] == len(LINES), 15)
    assert first.batches_written == 0

    second = KafkaSource(ingest, kafka)
    second_run = Background(second.run)
    try:
        wait_for(lambda: second.metrics.assigned_partitions == 1, 30)
        wait_for(lambda: first.metrics.assigned_partitions == 1, 10)
        # The first consumer wrote and committed both partitions when they were revoked.
        assert first.batches_written == 2 and first.metrics.commits >= 1
        assert read_table(ingest.out).num_rows == len(LINES)
        assert range_records(ingest.out) == []
        _send(producer, topic)
        wait_for(
            lambda: (
                first.metrics.consumed[topic] + second.metrics.consumed[topic] == 2 * len(LINES)
            ),
            15,
        )
    finally:
        first.stop()
        second.stop()
    first_run.join(30)
    second_run.join(30)
    assert second.summary.rows_written == len(LINES) // 2
    rows = pl.from_arrow(read_table(ingest.out))
    keys = ["_source_partition", "_source_offset", "_source_line"]
    assert rows.height == 2 * len(LINES) == rows.select(keys).n_unique()
