"""Kafka batches: where they end, and how messages become framed lines."""

from __future__ import annotations

import gzip

import pyarrow as pa
import pytest

from ingest.kafka_batch import OffsetRange, PartitionBuffer, assemble

pytestmark = pytest.mark.unit


def _buffer(values, offsets, planned=None) -> PartitionBuffer:
    buf = PartitionBuffer("cdn-logs", 3, planned)
    buf.add(values, offsets, now_s=0.0)
    return buf


def _lines(framed) -> list[tuple[str, int, int]]:
    t = framed.lines
    return list(
        zip(
            t.column("raw").to_pylist(),
            t.column("_source_offset").to_pylist(),
            t.column("_source_line").to_pylist(),
            strict=True,
        )
    )


def test_messages_with_one_or_many_lines_keep_offsets_and_line_numbers():
    buf = _buffer([b"a1\nb1\n", b"c2", b"d3\r\ne3", b"", None, b"f4\n"], [10, 11, 12, 13, 14, 15])
    framed, rejects = assemble(buf.peek(), max_message_bytes=1 << 20)
    assert _lines(framed) == [
        ("a1", 10, 1),
        ("b1", 10, 2),
        ("c2", 11, 1),
        ("d3", 12, 1),
        ("e3", 12, 2),
        ("f4", 15, 1),
    ]
    assert set(framed.lines.column("_source_topic").to_pylist()) == {"cdn-logs"}
    assert set(framed.lines.column("_source_partition").to_pylist()) == {3}
    assert rejects.num_rows == 0 and framed.skipped == 0


def test_compressed_messages_are_inflated_and_broken_ones_quarantined():
    values = [
        gzip.compress(b"g1\ng2\n") + gzip.compress(b"g3"),  # two gzip members
        b"\x1f\x8b\x08\x00 not gzip at all",
        gzip.compress(b"x" * 5000),
        b"plain",
    ]
    framed, rejects = assemble(_buffer(values, [0, 1, 2, 3]).peek(), max_message_bytes=4096)
    assert [(raw, off) for raw, off, _ in _lines(framed)] == [
        ("g1", 0),
        ("g2", 0),
        ("g3", 0),
        ("plain", 3),
    ]
    got = list(
        zip(
            rejects.column("_source_offset").to_pylist(),
            rejects.column("reason_code").to_pylist(),
            rejects.column("stage").to_pylist(),
            strict=True,
        )
    )
    assert got == [(1, "bad_compression", "framing"), (2, "oversized_message", "framing")]
    assert rejects.column("_source_topic").to_pylist() == ["cdn-logs", "cdn-logs"]
    assert rejects.column("raw")[0].as_py() == values[1]
    assert len(rejects.column("raw")[1].as_py()) <= 4097


def test_undecodable_lines_are_framing_rejects_with_their_offset():
    framed, _ = assemble(_buffer([b"ok", b"bad \xff\xfe", b"ok2"], [5, 6, 7]).peek(), 1 << 20)
    assert framed.rejects.column("_source_offset").to_pylist() == [6]
    assert framed.rejects.column("reason_code").to_pylist() == ["invalid_utf8"]


@pytest.mark.parametrize(
    ("max_messages", "max_bytes", "expected"),
    [
        pytest.param(None, None, (0, 4), id="everything"),
        pytest.param(2, None, (0, 1), id="by-messages"),
        pytest.param(None, 7, (0, 2), id="by-bytes"),
        pytest.param(None, 1, (0, 0), id="at-least-one"),
    ],
)
def test_batch_size_limits(max_messages, max_bytes, expected):
    buf = _buffer([b"aa", b"bb", b"cc", b"dd", b"ee"], [0, 1, 2, 3, 4])
    batch = buf.peek(max_messages, max_bytes)
    assert (batch.range.first, batch.range.last) == expected
    buf.drop(batch)
    assert buf.messages == 5 - (expected[1] + 1)


def test_due_by_messages_bytes_or_age():
    buf = _buffer([b"aa", b"bb"], [0, 1])
    assert not buf.due(max_messages=3, max_bytes=100, max_age_s=10, now_s=5)
    assert buf.due(max_messages=2, max_bytes=100, max_age_s=10, now_s=5)
    assert buf.due(max_messages=3, max_bytes=4, max_age_s=10, now_s=5)
    assert buf.due(max_messages=3, max_bytes=100, max_age_s=10, now_s=10)
    assert not PartitionBuffer("t", 0).due(1, 1, 0, 100)


def test_planned_range_is_replayed_exactly_whatever_the_limits():
    buf = PartitionBuffer("t", 0, [OffsetRange(10, 14), OffsetRange(15, 16)])
    buf.add([b"m"] * 3, [10, 11, 12], now_s=0)
    assert buf.replaying and not buf.due(1, 1, 0, 100)
    assert buf.peek(1, 1) is None  # the range is not complete yet
    buf.add([b"m"] * 4, [13, 14, 15, 16], now_s=0)
    first = buf.peek(1, 1)
    assert first.range == OffsetRange(10, 14) and first.offsets.tolist() == [10, 11, 12, 13, 14]
    assert first.stem == "kafka-t-00000-00000000000000000010-00000000000000000014"
    buf.drop(first)
    second = buf.peek(1, 1)
    assert second.range == OffsetRange(15, 16)
    buf.drop(second)
    assert not buf.replaying and buf.messages == 0


def test_messages_before_a_planned_range_never_cross_into_it():
    buf = _buffer([b"m"] * 5, [3, 4, 5, 6, 7], planned=[OffsetRange(5, 7)])
    assert buf.due(100, 100, 100, 0)
    before = buf.peek(100, 1000)
    assert before.range == OffsetRange(3, 4)
    buf.drop(before)
    assert buf.peek().range == OffsetRange(5, 7)


def test_planned_range_with_a_gap_in_offsets_keeps_its_name():
    # Offsets may skip (compaction, transaction markers): the range name is what counts.
    buf = _buffer([b"m"] * 3, [20, 22, 30], planned=[OffsetRange(20, 25)])
    batch = buf.peek()
    assert batch.range == OffsetRange(20, 25) and batch.offsets.tolist() == [20, 22]


def test_buffer_tracks_bytes_and_memory_after_drop():
    buf = _buffer([b"x" * 100, b"y" * 50], [0, 1])
    assert buf.nbytes >= 150
    buf.drop(buf.peek(1))
    assert buf.messages == 1 and 50 <= buf.nbytes < 150
    assert isinstance(buf.peek().values, pa.Array)
