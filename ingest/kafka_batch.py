"""Kafka messages of one partition to a batch, and a batch to framed lines.

`PartitionBuffer` collects message values and offsets between flushes and decides
where a batch ends: at the flush thresholds, or exactly at an offset range planned
after a restart, so a replay rewrites the files it wrote before instead of adding
rows. `assemble` turns a batch into one newline-delimited blob with message
boundaries for `framing.frame`; message-level problems (corrupt compression,
oversized values) become quarantine rows there. Everything is vectorised except
decompressing compressed messages, one at a time.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from isal import isal_zlib

from ingest.errors import FramingError
from ingest.framing import (
    GZIP_MAGIC,
    INFLATE_ERROR,
    ZSTD_MAGIC,
    Framed,
    KafkaPositions,
    decompress,
    frame,
)
from ingest.records import QUARANTINE_SCHEMA, Reason, Stage

QUARANTINED_PREFIX_BYTES = 64 << 10  # raw bytes kept of an oversized message
_EMPTY = pa.scalar(b"", pa.large_binary())
_NEWLINE = pa.scalar(b"\n", pa.large_binary())


@dataclass(frozen=True)
class OffsetRange:
    """Inclusive range of Kafka offsets of one batch."""

    first: int
    last: int


@dataclass(frozen=True)
class Batch:
    """Messages of one partition, to be written together under one file stem."""

    topic: str
    partition: int
    values: pa.LargeBinaryArray
    offsets: np.ndarray
    range: OffsetRange

    @property
    def stem(self) -> str:
        """File stem unique to (topic, partition, offset range): replays overwrite, never add."""
        return (
            f"kafka-{self.topic}-{self.partition:05d}-"
            f"{self.range.first:020d}-{self.range.last:020d}"
        )


class PartitionBuffer:
    """Messages of one partition not yet written, with the planned ranges still to replay."""

    def __init__(self, topic: str, partition: int, planned: list[OffsetRange] | None = None):
        self.topic = topic
        self.partition = partition
        self.planned: deque[OffsetRange] = deque(planned or [])
        self._values: list[pa.Array] = []
        self._offsets: list[np.ndarray] = []
        self.messages = 0
        self.nbytes = 0
        self.oldest_s: float | None = None

    def add(
        self,
        values: Sequence[bytes | memoryview | None],
        offsets: Sequence[int] | np.ndarray,
        now_s: float | None = None,
    ) -> None:
        """Buffer one poll's messages (ascending offsets) of this partition.

        Tombstones (None values) are kept as empty messages: they carry no lines.
        """
        if not values:
            return
        present = cast(
            "Sequence[bytes]",
            [b"" if v is None else v for v in values] if None in values else values,
        )
        # One join and one length pass: far cheaper than pa.array() on a list of bytes.
        bounds = np.zeros(len(present) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, present), np.int64, len(present)), out=bounds[1:])
        blob = b"".join(present)
        arr = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), len(values), [None, pa.py_buffer(bounds), pa.py_buffer(blob)]
        )
        self._values.append(arr)
        self._offsets.append(np.asarray(offsets, dtype=np.int64))
        self.messages += len(values)
        self.nbytes += len(blob)
        if self.oldest_s is None:
            self.oldest_s = time.monotonic() if now_s is None else now_s

    @property
    def last_offset(self) -> int | None:
        return int(self._offsets[-1][-1]) if self._offsets else None

    @property
    def replaying(self) -> bool:
        """A planned range is open: the batch must end exactly at its last offset."""
        return bool(self.planned)

    def due(self, max_messages: int, max_bytes: int, max_age_s: float, now_s: float) -> bool:
        """Whether a batch should be written now."""
        if not self.messages:
            return False
        if self.planned:
            first = int(self._offsets[0][0])
            last = self.last_offset
            assert last is not None
            return first < self.planned[0].first or last >= self.planned[0].last
        assert self.oldest_s is not None
        return (
            self.messages >= max_messages
            or self.nbytes >= max_bytes
            or now_s - self.oldest_s >= max_age_s
        )

    def peek(self, max_messages: int | None = None, max_bytes: int | None = None) -> Batch | None:
        """The next batch, without removing it (call `drop` once it is durable).

        Outside planned ranges a batch holds at most `max_messages` messages and about
        `max_bytes` bytes (at least one message). With a planned range open, the batch
        is exactly that range (or the messages before it); None while it is incomplete.
        """
        if not self.messages:
            return None
        offsets = np.concatenate(self._offsets) if len(self._offsets) > 1 else self._offsets[0]
        values = pa.concat_arrays(self._values) if len(self._values) > 1 else self._values[0]
        self._values, self._offsets = [values], [offsets]
        end = offsets.size
        if self.planned:
            plan = self.planned[0]
            if offsets[0] >= plan.first and offsets[-1] < plan.last:
                return None
            if offsets[0] >= plan.first:
                end = int(np.searchsorted(offsets, plan.last, side="right"))
                return Batch(self.topic, self.partition, values.slice(0, end), offsets[:end], plan)
            # Messages outside any planned range come first, and never cross into it.
            end = int(np.searchsorted(offsets, plan.first, side="left"))
        if max_messages is not None:
            end = min(end, max_messages)
        if max_bytes is not None and end > 1:
            bounds = np.frombuffer(values.buffers()[1], dtype=np.int64)[
                values.offset : values.offset + end + 1
            ]
            end = max(
                1, min(end, int(np.searchsorted(bounds - bounds[0], max_bytes, side="right")) - 1)
            )
        rng = OffsetRange(int(offsets[0]), int(offsets[end - 1]))
        return Batch(self.topic, self.partition, values.slice(0, end), offsets[:end], rng)

    def drop(self, batch: Batch) -> None:
        """Forget the messages of `batch` (written and durable) and close its planned range."""
        n = batch.offsets.size
        values, offsets = self._values[0], self._offsets[0]
        rest = values.slice(n)
        self._values = [rest] if len(rest) else []
        self._offsets = [offsets[n:]] if len(rest) else []
        self.messages -= n
        self.nbytes -= _value_bytes(values.slice(0, n))
        self.oldest_s = self.oldest_s if len(rest) else None
        if self.planned and batch.range == self.planned[0]:
            self.planned.popleft()


def _value_bytes(values: pa.Array) -> int:
    """Bytes of the values themselves (no offsets), of a possibly sliced binary array."""
    if len(values) == 0:
        return 0
    bounds = np.frombuffer(values.buffers()[1], dtype=np.int64)
    return int(bounds[values.offset + len(values)] - bounds[values.offset])


def _inflate(data: bytes, limit: int) -> bytes:
    """Gzip/zlib content (every member) of at most `limit` bytes."""
    out: list[bytes] = []
    size = 0
    while data:
        inflater = isal_zlib.decompressobj(wbits=47)  # gzip or zlib header; ISA-L inflates faster
        piece = inflater.decompress(data, limit + 1 - size)
        size += len(piece)
        out.append(piece)
        if size > limit:
            break
        if not inflater.eof:
            raise INFLATE_ERROR("truncated stream")
        data = inflater.unused_data
    return b"".join(out)


def _message_rejects(batch: Batch, rows: list[tuple[int, bytes, str, str]]) -> pa.Table:
    now_ms = int(time.time() * 1000)
    n = len(rows)
    return pa.table(
        {
            "raw": pa.array([r[1] for r in rows], pa.binary()),
            "_source_file": pa.nulls(n, pa.string()),
            "_source_line": pa.nulls(n, pa.int64()),
            "_source_topic": pa.array([batch.topic] * n, pa.string()),
            "_source_partition": pa.array([batch.partition] * n, pa.int32()),
            "_source_offset": pa.array([int(batch.offsets[r[0]]) for r in rows], pa.int64()),
            "vendor": pa.nulls(n, pa.string()),
            "source_format": pa.nulls(n, pa.string()),
            "stage": pa.array([Stage.FRAMING.value] * n, pa.string()),
            "reason_code": pa.array([r[2] for r in rows], pa.string()),
            "detail": pa.array([r[3] for r in rows], pa.string()),
            "ingested_at": pa.array([now_ms] * n, pa.timestamp("ms", tz="UTC")),
        },
        schema=QUARANTINE_SCHEMA,
    )


def _decompress_messages(
    values: pa.Array, idx: np.ndarray, max_bytes: int, bad: list[tuple[int, bytes, str, str]]
) -> pa.Array:
    plain: list[bytes] = []
    for i in idx.tolist():
        data = values[i].as_py()
        try:
            if data.startswith(GZIP_MAGIC):
                out = _inflate(data, max_bytes)
            else:
                out = decompress(data, "message.zst")
        except (INFLATE_ERROR, FramingError) as exc:
            detail = str(getattr(exc, "detail", exc))[:200]
            bad.append(
                (i, data, Reason.BAD_COMPRESSION.value, f"corrupt compressed message: {detail}")
            )
            out = b""
        plain.append(out)
    mask = np.zeros(len(values), dtype=bool)
    mask[idx] = True
    return pc.replace_with_mask(values, pa.array(mask), pa.array(plain, pa.large_binary()))


def assemble(batch: Batch, max_message_bytes: int) -> tuple[Framed, pa.Table]:
    """Frame the lines of every message of `batch`.

    Messages may hold one line or many, end with a newline or not, and be gzip or zstd
    compressed. Line numbers restart at 1 in each message.

    Returns:
        framed lines with topic/partition/offset lineage, and one quarantine row per
        message that could not be read (corrupt compression, over `max_message_bytes`).
    """
    values = pc.fill_null(batch.values, _EMPTY)  # tombstones carry no lines
    bad: list[tuple[int, bytes, str, str]] = []
    head = pc.binary_slice(values, 0, 4)
    compressed = np.asarray(
        pc.or_(pc.starts_with(head, GZIP_MAGIC), pc.starts_with(head, ZSTD_MAGIC))
    )
    if compressed.any():
        values = _decompress_messages(values, np.flatnonzero(compressed), max_message_bytes, bad)
    lengths = np.array(pc.binary_length(values), dtype=np.int64)
    oversized = np.flatnonzero(lengths > max_message_bytes)
    if oversized.size:
        for i in oversized.tolist():
            prefix = values[i].as_py()[:QUARANTINED_PREFIX_BYTES]
            detail = f"message of {lengths[i]} bytes exceeds max_message_bytes={max_message_bytes}"
            bad.append((i, prefix, Reason.OVERSIZED_MESSAGE.value, detail))
        mask = np.zeros(len(values), dtype=bool)
        mask[oversized] = True
        values = pc.if_else(pa.array(mask), _EMPTY, values)
        lengths[oversized] = 0
    ends_newline = pc.equal(pc.binary_slice(values, -1), _NEWLINE)
    needs_newline = pc.and_(pa.array(lengths > 0), pc.invert(ends_newline))
    suffix = pc.if_else(needs_newline, _NEWLINE, _EMPTY)
    joined = pc.binary_join_element_wise(values, suffix, _EMPTY)
    bounds = np.frombuffer(joined.buffers()[1], dtype=np.int64)[
        joined.offset : joined.offset + len(joined) + 1
    ]
    data = joined.buffers()[2]
    blob = data[int(bounds[0]) : int(bounds[-1])].to_pybytes() if data is not None else b""
    positions = KafkaPositions(
        topic=batch.topic,
        partition=batch.partition,
        starts=bounds[:-1] - bounds[0],
        offsets=batch.offsets,
    )
    framed = frame(blob, kafka=positions)
    rejects = _message_rejects(batch, sorted(bad)) if bad else QUARANTINE_SCHEMA.empty_table()
    return framed, rejects
