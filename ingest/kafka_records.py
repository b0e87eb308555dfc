"""Kafka record batches to blocks of values, without a Python object per record.

kafka-python decodes every record of a fetch into a `ConsumerRecord` through a dozen
Python calls (varints, key, value, headers, timestamp), about 5 µs per record here:
with one log line per message that costs more than parsing the line. The consumer
only needs each record's offset and value, so `install()` gives the consumer's fetcher
a `PartitionRecords` that yields one `RecordBlock` per record batch instead: one tight
loop per batch finds the records and slices their values (memoryviews of the batch
buffer, no copy), about 1 µs per record.

Everything else stays kafka-python's: fetching, batch CRC checks, decompression,
control batches, positions, pausing and rebalances. `install()` checks the private
names it relies on (kafka-python >= 3.0) and leaves the consumer untouched when they
are missing or when the consumer reads committed transactions only (aborted
transactions are filtered per record); the source then receives `ConsumerRecord`s
as before.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from kafka.errors import CorruptRecordError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordBlock:
    """Records of one record batch at or after the fetch position, in offset order."""

    offsets: np.ndarray  # int64
    values: list[memoryview | None]  # None for a null value (tombstone)

    @property
    def offset(self) -> int:
        """Offset of the first record (what `ConsumerRecord.offset` gives for a record)."""
        return int(self.offsets[0])

    def __len__(self) -> int:
        return len(self.values)


def record_count(items: Sequence[Any]) -> int:
    """Records in a poll's list for one partition: blocks count their records."""
    if items and isinstance(items[0], RecordBlock):
        return sum(len(block) for block in items)
    return len(items)


def values_and_offsets(items: Sequence[Any]) -> tuple[list[Any], np.ndarray]:
    """(values, offsets) of a poll's list for one partition, blocks or `ConsumerRecord`s."""
    if items and isinstance(items[0], RecordBlock):
        values: list[Any] = []
        for block in items:
            values.extend(block.values)
        offsets = np.concatenate([block.offsets for block in items])
        return values, offsets
    return [r.value for r in items], np.fromiter((r.offset for r in items), np.int64, len(items))


def decode_records(buf: bytearray, pos: int, count: int) -> tuple[list[int], list[Any]]:
    """(offset deltas, values) of `count` v2 records starting at `buf[pos]`.

    Record: length, attributes, timestamp delta, offset delta, key, value, headers, all
    lengths and deltas zigzag varints. Only what is needed is decoded; a record's end
    comes from its length, so headers are skipped, not read.

    Raises:
        CorruptRecordError: a record runs past the batch, or bytes are left over.
    """
    view = memoryview(buf)
    end_of_batch = len(buf)
    deltas: list[int] = []
    values: list[Any] = []
    add_delta, add_value = deltas.append, values.append
    try:
        pos = _decode_into(buf, view, pos, count, add_delta, add_value)
    except IndexError as exc:  # a varint or field ran off the end of the batch
        raise CorruptRecordError(f"record batch ends inside a record: {exc}") from exc
    if pos != end_of_batch:
        raise CorruptRecordError(f"{end_of_batch - pos} unconsumed bytes after all records")
    return deltas, values


def _decode_into(
    buf: bytearray, view: memoryview, pos: int, count: int, add_delta: Any, add_value: Any
) -> int:
    """The loop of `decode_records`; returns the position after the last record."""
    end_of_batch = len(buf)
    for _ in range(count):
        # The only per-record Python left: the record chain is sequential by nature.
        b = buf[pos]
        if b < 0x80:
            length, pos = (b >> 1) ^ -(b & 1), pos + 1
        else:
            length, pos = _varint(buf, pos)
        end = pos + length
        if length < 0 or end > end_of_batch:
            raise CorruptRecordError(f"record of {length} bytes at {pos} overruns the batch")
        p = pos + 1  # attributes: unused
        while buf[p] & 0x80:  # timestamp delta: unused
            p += 1
        b = buf[p + 1]
        if b < 0x80:
            delta, p = (b >> 1) ^ -(b & 1), p + 2
        else:
            delta, p = _varint(buf, p + 1)
        b = buf[p]
        if b < 0x80:
            key_len, p = (b >> 1) ^ -(b & 1), p + 1
        else:
            key_len, p = _varint(buf, p)
        if key_len > 0:
            p += key_len
        b = buf[p]
        if b < 0x80:
            value_len, p = (b >> 1) ^ -(b & 1), p + 1
        else:
            value_len, p = _varint(buf, p)
        if p + max(value_len, 0) >= end:  # the header count follows the value
            raise CorruptRecordError(f"record value at {p} overruns its record ending at {end}")
        add_delta(delta)
        add_value(view[p : p + value_len] if value_len >= 0 else None)
        pos = end
    return pos


def _varint(buf: bytearray, pos: int) -> tuple[int, int]:
    """Zigzag varint at `pos`: (value, next position)."""
    result, shift = 0, 0
    while True:
        b = buf[pos]
        result |= (b & 0x7F) << shift
        pos += 1
        if not b & 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7
        if shift >= 64:
            raise CorruptRecordError("varint out of int64 range")


def _block_of_batch(batch: Any, fetch_offset: int) -> RecordBlock:
    """The records of a v2 batch at or after `fetch_offset`."""
    batch._maybe_uncompress()
    deltas, values = decode_records(batch._buffer, batch._pos, batch._num_records)
    offsets = np.asarray(deltas, dtype=np.int64) + batch.base_offset
    if offsets.size and offsets[0] < fetch_offset:  # fetched from inside the batch
        keep = int(np.searchsorted(offsets, fetch_offset, side="left"))
        offsets, values = offsets[keep:], values[keep:]
    return RecordBlock(offsets, values)


def _block_of_legacy(batch: Any, fetch_offset: int, check_crcs: bool) -> RecordBlock:
    """Message sets v0/v1 (brokers before Kafka 0.11): through kafka-python's records."""
    records = [r for r in batch if r.offset >= fetch_offset]
    for record in records:
        if check_crcs and not record.validate_crc():
            raise CorruptRecordError(f"Record at offset {record.offset} failed crc check")
    offsets = np.fromiter((r.offset for r in records), np.int64, len(records))
    return RecordBlock(
        offsets, [memoryview(r.value) if r.value is not None else None for r in records]
    )


def _block_records_class(base: type) -> type:
    class BlockPartitionRecords(base):
        """kafka-python's PartitionRecords yielding one RecordBlock per record batch."""

        def _maybe_skip_record(self, record: Any) -> bool:
            return False  # blocks are trimmed to the fetch position when built

        def _unpack_records(
            self, tp: Any, records: Any, key_deserializer: Any, value_deserializer: Any
        ) -> Any:
            try:
                batch = records.next_batch()
                last_batch = None
                while batch is not None:
                    last_batch = batch
                    if self.check_crcs and not batch.validate_crc():
                        raise CorruptRecordError(
                            f"Record batch for partition {self.topic_partition} at offset "
                            f"{batch.base_offset} failed crc check"
                        )
                    if batch.magic == 2:
                        self.leader_epoch = batch.leader_epoch
                        if batch.is_control_batch:
                            self.next_fetch_offset = batch.next_offset
                            batch = records.next_batch()
                            continue
                        block = _block_of_batch(batch, self.fetch_offset)
                    else:
                        block = _block_of_legacy(batch, self.fetch_offset, self.check_crcs)
                    if len(block):
                        self.records_read += len(block)
                        self.bytes_read += batch.size_in_bytes
                        self.next_fetch_offset = int(block.offsets[-1]) + 1
                        yield block
                    batch = records.next_batch()
                if last_batch is not None and last_batch.magic == 2:
                    self.next_fetch_offset = last_batch.next_offset
                self.drain()
            except StopIteration as exc:  # a StopIteration would end the generator silently
                raise RuntimeError("StopIteration raised unpacking record batches") from exc

    return BlockPartitionRecords


def install(consumer: Any, isolation_level: str = "read_uncommitted") -> bool:
    """Make `consumer.poll()` return RecordBlocks; False (consumer untouched) when the
    installed kafka-python lacks what this relies on or transactions are filtered."""
    if isolation_level != "read_uncommitted":
        return False
    try:
        from kafka.record.default_records import DefaultRecordBatch
    except ImportError:
        return False
    fetcher = getattr(consumer, "_fetcher", None)
    base = getattr(fetcher, "PartitionRecords", None)
    needed = ("_buffer", "_pos", "_num_records")
    if (
        base is None
        or not hasattr(base, "_unpack_records")
        or not hasattr(DefaultRecordBatch, "_maybe_uncompress")
        or not all(name in DefaultRecordBatch.__slots__ for name in needed)
    ):
        log.warning("kafka-python internals differ; decoding records one by one (slower).")
        return False
    fetcher.PartitionRecords = _block_records_class(base)  # type: ignore[union-attr]
    return True
