"""A consumer started before its broker keeps retrying, then consumes once the broker is up."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaProducer

from cdn_offload.local_broker import LocalBroker, free_port
from ingest.kafka_config import load_kafka_settings
from ingest.kafka_source import KafkaSource
from tests.integration.kafka.support import FAST_GROUP, SAMPLES, Background, read_table

pytestmark = pytest.mark.integration


def test_consumer_waits_for_an_unreachable_broker(ingest_settings_factory):
    port = free_port()
    kafka = load_kafka_settings(
        bootstrap_servers=f"127.0.0.1:{port}",
        topics={"late": "cloudfront_standard"},
        group_id="late-group",
        **FAST_GROUP,
    )
    ingest = ingest_settings_factory()
    source = KafkaSource(ingest, kafka)
    run = Background(lambda: source.run(idle_timeout_s=3))
    time.sleep(2)
    lines = [
        line
        for line in (SAMPLES / "cloudfront" / "live_match.log").read_bytes().splitlines()
        if not line.startswith(b"#")
    ]
    with LocalBroker(port=port) as broker:
        broker.create_topics({"late": 1})
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers)
        for line in lines:
            producer.send("late", line)
        producer.flush()
        producer.close()
        summary = run.join(60)
    assert summary.rows_written == len(lines) == read_table(ingest.out).num_rows
