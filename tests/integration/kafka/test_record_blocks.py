"""Against a real broker: block decoding returns what kafka-python's own decoding returns,
for plain and gzip batches, tombstones, keys and headers, and a position inside a batch."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from ingest.kafka_records import RecordBlock, install, values_and_offsets

pytestmark = pytest.mark.integration


def _produce(bootstrap: str, topic: str, compression: str | None) -> list[bytes | None]:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=50, batch_size=1 << 16, compression_type=compression
    )
    sent: list[bytes | None] = []
    for i in range(3000):
        value = None if i % 500 == 7 else (f"line {i} " + "x" * (i % 700)).encode()
        key = f"k{i}".encode() if i % 3 == 0 or value is None else None
        headers = [("trace", b"abc")] if i % 5 == 0 else []
        producer.send(topic, value, key=key, headers=headers, partition=0)
        sent.append(value)
    producer.flush()
    producer.close()
    return sent


def _drain(bootstrap: str, topic: str, blocks: bool, start: int, total: int) -> tuple[list, list]:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        fetch_max_bytes=16 << 20, max_partition_fetch_bytes=8 << 20,
    )  # fmt: skip
    if blocks:
        assert install(consumer)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek(tp, start)
    values: list = []
    offsets: list[int] = []
    kinds: set[type] = set()
    while len(values) < total - start:
        for items in consumer.poll(timeout_ms=2000).values():
            kinds.update(type(item) for item in items)
            vals, offs = values_and_offsets(items)
            values.extend(None if v is None else bytes(v) for v in vals)
            offsets.extend(offs.tolist())
    consumer.close()
    assert (RecordBlock in kinds) == blocks
    return values, offsets


@pytest.mark.parametrize("compression", [None, "gzip"], ids=["plain", "gzip"])
def test_blocks_equal_kafka_python_records(kafka_broker, topic_factory, compression):
    topic = topic_factory(partitions=1)
    sent = _produce(kafka_broker.bootstrap_servers, topic, compression)
    fast = _drain(kafka_broker.bootstrap_servers, topic, True, 0, len(sent))
    plain = _drain(kafka_broker.bootstrap_servers, topic, False, 0, len(sent))
    assert fast == plain
    assert fast[0] == sent and fast[1] == list(range(len(sent)))
    # From inside a batch (compressed batches are fetched whole): the same suffix.
    assert _drain(kafka_broker.bootstrap_servers, topic, True, 1234, len(sent)) == (
        sent[1234:],
        list(range(1234, len(sent))),
    )
