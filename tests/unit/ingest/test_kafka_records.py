"""Record batches decoded in blocks give exactly what kafka-python's own decoding gives."""

import random

import numpy as np
import pytest
from kafka.errors import CorruptRecordError
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords

from ingest.kafka_records import (
    RecordBlock,
    _block_of_batch,
    decode_records,
    record_count,
    values_and_offsets,
)

pytestmark = pytest.mark.unit

GZIP = DefaultRecordBatch.CODEC_GZIP
NONE = DefaultRecordBatch.CODEC_NONE


def built(records, codec=NONE, base_offset=0):
    """Bytes of one v2 batch holding `records` [(key, value, headers)], kafka-python's encoder."""
    builder = DefaultRecordBatchBuilder(2, codec, False, -1, -1, -1, 1 << 24)
    for i, (key, value, headers) in enumerate(records):
        builder.append(i, 1_700_000_000_000 + i * 1000, key, value, headers)
    data = builder.build()
    data[0:8] = base_offset.to_bytes(8, "big")  # base offset as the broker assigns it
    return bytes(data)


def kafka_python_view(data):
    batch = MemoryRecords(data).next_batch()
    return [(r.offset, r.value) for r in batch]


def random_records(rnd, n):
    out = []
    for _ in range(n):
        size = rnd.choice([0, 1, 63, 64, 127, 128, 450, 8191, 8192, 20_000])
        value = None if rnd.random() < 0.05 else bytes(rnd.getrandbits(8) for _ in range(size))
        key = rnd.choice([None, b"", b"k" * rnd.randrange(1, 200)])
        headers = [("h", b"v" * rnd.randrange(0, 300))] * rnd.randrange(0, 3)
        out.append((key, value, headers))
    return out


@pytest.mark.parametrize("codec", [NONE, GZIP], ids=["plain", "gzip"])
def test_blocks_match_kafka_python_on_random_batches(codec):
    rnd = random.Random(11)
    for trial in range(20):
        data = built(random_records(rnd, rnd.randrange(1, 60)), codec, base_offset=1000 * trial)
        block = _block_of_batch(MemoryRecords(data).next_batch(), fetch_offset=0)
        values = [None if v is None else bytes(v) for v in block.values]
        assert list(zip(block.offsets.tolist(), values, strict=True)) == kafka_python_view(data)


def test_fetch_from_inside_a_batch_keeps_records_from_the_position_on():
    data = built([(None, f"line {i}".encode(), []) for i in range(10)], base_offset=500)
    block = _block_of_batch(MemoryRecords(data).next_batch(), fetch_offset=504)
    assert block.offsets.tolist() == list(range(504, 510))
    assert bytes(block.values[0]) == b"line 4"
    assert block.offset == 504 and len(block) == 6


def test_truncated_or_padded_records_are_corrupt():
    data = built([(None, b"x" * 300, []), (None, b"y" * 300, [])])
    batch = MemoryRecords(data).next_batch()
    batch._maybe_uncompress()
    buf, pos = batch._buffer, batch._pos
    with pytest.raises(CorruptRecordError):
        decode_records(buf[:-50], pos, 2)
    with pytest.raises(CorruptRecordError):
        decode_records(buf + b"\x00\x00", pos, 2)
    with pytest.raises(CorruptRecordError):
        decode_records(buf, pos, 3)


def test_values_and_offsets_of_blocks_and_of_records():
    blocks = [
        RecordBlock(np.array([5, 6]), [memoryview(b"a"), None]),
        RecordBlock(np.array([9]), [memoryview(b"c")]),
    ]
    values, offsets = values_and_offsets(blocks)
    assert [None if v is None else bytes(v) for v in values] == [b"a", None, b"c"]
    assert offsets.tolist() == [5, 6, 9]
    assert record_count(blocks) == 3

    class Rec:
        def __init__(self, offset, value):
            self.offset, self.value = offset, value

    values, offsets = values_and_offsets([Rec(1, b"x"), Rec(2, b"y")])
    assert values == [b"x", b"y"] and offsets.tolist() == [1, 2]
    assert record_count([Rec(1, b"x")]) == 1


def test_legacy_message_sets_become_blocks_too():
    from kafka.record.legacy_records import LegacyRecordBatchBuilder

    from ingest.kafka_records import _block_of_legacy

    builder = LegacyRecordBatchBuilder(magic=1, compression_type=0, batch_size=1 << 20)
    for i, value in enumerate([b"first line", None, b"third line"]):
        builder.append(i, timestamp=1_700_000_000_000, key=b"k", value=value)
    records = MemoryRecords(bytes(builder.build()))
    blocks = []
    while (batch := records.next_batch()) is not None:  # uncompressed: one message each
        blocks.append(_block_of_legacy(batch, fetch_offset=1, check_crcs=True))
    values, offsets = values_and_offsets([b for b in blocks if len(b)])
    assert offsets.tolist() == [1, 2]
    assert [None if v is None else bytes(v) for v in values] == [None, b"third line"]
