"""Poison messages are quarantined with their position and reason; the rest flows."""

from __future__ import annotations

import gzip

import polars as pl
import pytest
from kafka import KafkaConsumer

from ingest.kafka_source import KafkaSource
from tests.integration.kafka.support import SAMPLES, read_table

pytestmark = pytest.mark.integration

GOOD = [
    line
    for line in (SAMPLES / "cloudfront" / "live_match.log").read_bytes().splitlines()
    if not line.startswith(b"#")
]
POISON = {
    "invalid_utf8": b"2025-01-15\t14:00:01\t\xff\xfe\xfd broken bytes",
    "binary_garbage": b"\x00\x01\x02\x03\x04 binary \x05\x06",
    "oversized_message": b"x" * 50_000,
    "bad_compression": b"\x1f\x8b\x08\x00 this is not a gzip stream",
}
UNPARSEABLE = b"2025-01-15\t14:00:01\tBOM78-P1\t1873\ttoo few fields"


def test_poison_messages_are_quarantined_and_the_rest_flows(
    topic_factory, producer, kafka_broker, kafka_settings_factory, ingest_settings_factory
):
    logs, unknown, dead = (topic_factory(1, p) for p in ("logs", "unknown", "dead"))
    half = len(GOOD) // 2
    offsets = {}
    for line in GOOD[:half]:
        producer.send(logs, line)
    for reason, value in POISON.items():
        offsets[reason] = producer.send(logs, value).get(timeout=10).offset
    unparseable_at = producer.send(logs, UNPARSEABLE).get(timeout=10).offset
    producer.send(logs, None, key=b"k")  # a tombstone carries no lines
    producer.send(logs, gzip.compress(b"\n".join(GOOD[half:])))
    for i in range(3):
        producer.send(unknown, b"this is not a CDN log line %d" % i)
    producer.flush()
    ingest = ingest_settings_factory()
    kafka = kafka_settings_factory(
        {logs: "cloudfront_standard", unknown: "auto"},
        max_message_bytes=16_384,
        dead_letter_topic=dead,
    )

    summary = KafkaSource(ingest, kafka).run(idle_timeout_s=3)

    rows = pl.from_arrow(read_table(ingest.out))
    assert rows.height == len(GOOD) == summary.rows_written
    rejects = pl.from_arrow(read_table(ingest.out, "quarantine"))
    from_logs = rejects.filter(pl.col("_source_topic") == logs)
    framing = from_logs.filter(pl.col("stage") == "framing")
    assert dict(zip(framing["reason_code"], framing["_source_offset"], strict=True)) == offsets
    parsing = from_logs.filter(pl.col("stage") == "parsing")
    assert parsing["_source_offset"].to_list() == [unparseable_at]
    assert parsing["raw"].to_list() == [UNPARSEABLE]
    assert set(from_logs["_source_partition"]) == {0}
    from_unknown = rejects.filter(pl.col("_source_topic") == unknown)
    assert from_unknown.height == 3
    assert set(from_unknown["reason_code"]) == {"unknown_format"}
    assert summary.rows_quarantined == len(POISON) + 1 + 3

    consumer = KafkaConsumer(
        dead,
        bootstrap_servers=kafka_broker.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
    )
    letters = list(consumer)
    consumer.close()
    assert len(letters) == rejects.height
    headers = [dict(m.headers) for m in letters]
    assert {h["reason_code"].decode() for h in headers} >= set(POISON) | {"unknown_format"}
    assert all(h["_source_topic"].decode() in (logs, unknown) for h in headers)
