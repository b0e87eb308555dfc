"""Publish log files to Kafka, keeping their traffic shape in time (tests, demo, benchmarks).

Each file is parsed with the project's parsers once to learn the event time of every
line; lines then go out in event-time order (a file's own order is kept) with one
sleep per time bucket, not per line, at `speed` times real time or as fast as
possible. Lines are grouped `lines_per_message` to a message, newline-delimited and
optionally gzip-compressed, as log shippers batch them. Lines that do not parse
(malformed, comments, headers) are sent too, at the time of their neighbours.
"""

from __future__ import annotations

import gzip
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest.errors import UnknownFormatError
from ingest.file_source import expand_inputs
from ingest.framing import decompress, frame
from ingest.pipeline import parse_framed, resolve_format

log = logging.getLogger(__name__)

WALL_BUCKET_S = 0.1  # wall-clock granularity of the pacing


@dataclass(frozen=True)
class ReplayLines:
    """Lines in send order (each with its newline) and their event times in ms, non-decreasing."""

    lines: pa.LargeBinaryArray
    times_ms: np.ndarray


@dataclass
class ReplayStats:
    messages: int = 0
    lines: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict[str, float]:
        return {
            "messages": self.messages,
            "lines": self.lines,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
        }


def _split_lines(data: bytes) -> pa.LargeBinaryArray:
    """Lines of `data` with their newline, numbered as `framing.frame` numbers them."""
    if not data:
        return pa.array([], pa.large_binary())
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10) + 1
    if ends.size == 0 or ends[-1] != buf.size:
        ends = np.append(ends, buf.size)
    bounds = np.concatenate(([0], ends)).astype(np.int64)
    if data and data[-1:] != b"\n":
        data += b"\n"
        bounds[-1] += 1
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), bounds.size - 1, [None, pa.py_buffer(bounds), pa.py_buffer(data)]
    )


def _event_times(data: bytes, name: str, fmt: str, n: int) -> np.ndarray:
    """Event time (ms) of each of the `n` lines; unparsed lines take a neighbour's time."""
    framed = frame(data, source_file=name)
    times = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    try:
        used = resolve_format(fmt, framed, name)
    except UnknownFormatError:
        log.warning("No known format in %s; its lines are sent without pacing.", name)
        return np.zeros(n, dtype=np.int64)
    rows = parse_framed(framed, used, client_ip_mode="raw").rows
    if rows.num_rows:
        line = np.asarray(rows.column("_source_line").combine_chunks()) - 1
        ms = pc.cast(rows.column("event_time"), pa.int64()).combine_chunks()
        times[line] = np.asarray(ms)
    known = times != np.iinfo(np.int64).min
    if not known.any():
        return np.zeros(n, dtype=np.int64)
    # Forward-fill, then back-fill the head; a running max keeps the file's own order.
    idx = np.where(known, np.arange(n), 0)
    np.maximum.accumulate(idx, out=idx)
    filled = times[idx]
    filled[: int(np.argmax(known))] = times[int(np.argmax(known))]
    return np.maximum.accumulate(filled)


def load_lines(paths: Iterable[str], fmt: str = "auto") -> ReplayLines:
    """Every line of the files (directories expanded), ordered by event time across files.

    Raises:
        FileNotFoundError: a path does not exist.
        FramingError: a file is not readable (bad compression).
    """
    arrays, times = [], []
    for path in expand_inputs(paths):
        data = decompress(Path(path).read_bytes(), path.name)
        lines = _split_lines(data)
        arrays.append(lines)
        times.append(_event_times(data, str(path), fmt, len(lines)))
    if not arrays:
        return ReplayLines(pa.array([], pa.large_binary()), np.zeros(0, dtype=np.int64))
    all_times = np.concatenate(times)
    order = np.argsort(all_times, kind="stable")
    lines = pa.concat_arrays(arrays).take(pa.array(order))
    return ReplayLines(lines, all_times[order])


def messages(
    lines: ReplayLines, lines_per_message: int, bucket_ms: int
) -> Iterator[tuple[int, list[bytes]]]:
    """(bucket event time in ms, message values) per time bucket, in order.

    A message never spans two buckets; its lines are newline-joined without a final newline.
    """
    n = len(lines.lines)
    if n == 0:
        return
    arr = lines.lines
    bounds = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = arr.buffers()[2].to_pybytes()
    base = int(lines.times_ms[0])
    bucket = (lines.times_ms - base) // max(1, bucket_ms)
    cuts = np.concatenate(([0], np.flatnonzero(np.diff(bucket)) + 1, [n]))
    at = bounds.tolist()
    for a, b in itertools.pairwise(cuts.tolist()):
        starts = [*range(a, b, lines_per_message), b]
        values = [data[at[s] : at[e] - 1] for s, e in itertools.pairwise(starts)]
        yield int(lines.times_ms[a]), values


def replay(
    lines: ReplayLines,
    producer: Any,
    topic: str,
    *,
    speed: float | None = None,
    lines_per_message: int = 1,
    compress: bool = False,
    stop: threading.Event | None = None,
    on_progress: Callable[[ReplayStats], None] | None = None,
) -> ReplayStats:
    """Send `lines` to `topic`; `speed` None means as fast as possible.

    Returns:
        what was sent; every message is acknowledged by the broker on return
        (`producer.flush()`), unless `stop` was set first.
    """
    stats = ReplayStats()
    started = time.monotonic()
    bucket_ms = int(WALL_BUCKET_S * 1000 * speed) if speed else 1 << 62
    first_ms = int(lines.times_ms[0]) if len(lines.times_ms) else 0
    for event_ms, values in messages(lines, lines_per_message, bucket_ms):
        if stop is not None and stop.is_set():
            break
        if speed:
            wait = started + (event_ms - first_ms) / 1000 / speed - time.monotonic()
            if wait > 0 and stop is not None and stop.wait(wait):
                break
            if wait > 0 and stop is None:
                time.sleep(wait)
        for value in values:
            payload = gzip.compress(value, mtime=0) if compress else value
            producer.send(topic, payload)
            stats.bytes += len(payload)
        stats.messages += len(values)
        stats.lines += sum(v.count(b"\n") + 1 for v in values)
        if on_progress:
            on_progress(stats)
    producer.flush()
    stats.seconds = time.monotonic() - started
    return stats


def producer_for(settings: Any) -> Any:
    """A kafka-python producer for `KafkaSettings`, tuned for throughput, acks from all replicas."""
    from kafka import KafkaProducer

    return KafkaProducer(
        **settings.connection_config(),
        acks="all",
        linger_ms=20,
        batch_size=1 << 20,
        max_request_size=settings.max_partition_fetch_bytes,
    )
