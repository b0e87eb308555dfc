"""A failing sink pauses fetching and commits nothing until the batch is written."""

from __future__ import annotations

import polars as pl
import pytest

from ingest.errors import SinkError
from ingest.kafka_source import KafkaSource
from tests.integration.kafka.support import SAMPLES, read_table

pytestmark = pytest.mark.integration

LINES = [
    line
    for line in (SAMPLES / "cloudfront" / "live_match.log").read_bytes().splitlines()
    if not line.startswith(b"#")
]


def test_write_failures_are_retried_with_backoff_and_nothing_is_committed_early(
    topic_factory, producer, kafka_settings_factory, ingest_settings_factory
):
    topic = topic_factory(partitions=1)
    for line in LINES:
        producer.send(topic, line)
    producer.flush()
    ingest = ingest_settings_factory()
    kafka = kafka_settings_factory({topic: "cloudfront_standard"}, flush_interval_s=0.2)
    source = KafkaSource(ingest, kafka)
    write_rows = source.sink.write_rows
    seen = {"calls": 0, "paused": 0, "commits_before_success": 0}

    def flaky(rows, stem):
        seen["calls"] += 1
        seen["commits_before_success"] = source.metrics.commits
        if seen["calls"] <= 2:
            seen["paused"] = max(seen["paused"], source.metrics.paused_partitions)
            raise SinkError(stem, "object store throttled the request")
        return write_rows(rows, stem)

    source.sink.write_rows = flaky  # type: ignore[method-assign]
    summary = source.run(idle_timeout_s=4)

    assert seen["calls"] >= 3 and source.metrics.write_failures == 2
    assert seen["commits_before_success"] == 0
    assert seen["paused"] == 1, "fetching pauses while writes fail"
    rows = pl.from_arrow(read_table(ingest.out))
    assert rows.height == len(LINES) == summary.rows_written
    assert rows.select("_source_offset").n_unique() == len(LINES)
