"""Kafka to Parquet: one consumer-group member that neither loses nor duplicates rows.

Each cycle polls, buffers messages per partition, writes the batches that are due
(by messages, bytes or age) and then commits their offsets. A batch is written
only after its offset range is recorded (`kafka_ranges`), its files are named after
that range, and its offsets are committed only once every file is durable. So a crash
at any point replays at most the uncommitted ranges, cut exactly as before, and the
replay overwrites the same files with the same rows. Revoked partitions are flushed
and committed before they are given up; lost ones are dropped unwritten.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pyarrow as pa
from kafka.errors import KafkaError

from ingest.config import IngestSettings
from ingest.errors import ConfigError, SinkError
from ingest.health import Metrics
from ingest.kafka_batch import Batch, PartitionBuffer, assemble
from ingest.kafka_config import KafkaSettings
from ingest.kafka_group import (
    Backoff,
    backpressure,
    close,
    commit,
    connect,
    poll,
    report,
    send_dead_letters,
)
from ingest.kafka_parse import parse_batch, reject_counts
from ingest.kafka_ranges import RangeLedger
from ingest.kafka_records import values_and_offsets
from ingest.parquet_sink import ParquetSink
from ingest.pipeline import RunSummary
from ingest.records import ParseResult
from ingest.storage import resolve

log = logging.getLogger(__name__)

POLL_TIMEOUT_MS = 250
REPORT_EVERY_S = 1.0


class KafkaSource:
    """Consumes the configured topics into `ingest.out` until stopped, idle or done."""

    def __init__(
        self, ingest: IngestSettings, kafka: KafkaSettings, *, metrics: Metrics | None = None
    ) -> None:
        if not kafka.topics:
            raise ConfigError("kafka.topics", "at least one topic is required")
        self.ingest, self.kafka = ingest, kafka
        self.sink = ParquetSink(
            resolve(ingest.out),
            compression=ingest.parquet_compression,
            row_group_size=ingest.row_group_size,
        )
        self.ledger = RangeLedger(self.sink.data)
        self.metrics = metrics or Metrics(max_lag_records=kafka.ready_max_lag_records)
        self.summary = RunSummary()
        self.batches_written = 0
        self._buffers: dict[Any, PartitionBuffer] = {}
        self._unplanned: set[Any] = set()
        self._uncommitted: dict[Any, int] = {}
        self._durable: dict[Any, int] = {}
        self._stop = threading.Event()
        self._write_backoff = Backoff(kafka.backoff_initial_s, kafka.backoff_max_s)
        self._commit_backoff = Backoff(kafka.backoff_initial_s, kafka.backoff_max_s)
        self._poll_backoff = Backoff(kafka.backoff_initial_s, kafka.backoff_max_s)
        self._write_retry_at = self._commit_retry_at = self._next_report = 0.0
        self._consumer: Any = None
        self._dead_letters: Any = None
        self._reachable = True
        self._assigned_at: float | None = None

    def stop(self) -> None:
        """Ask `run` to flush, commit, leave the group and return (thread/signal safe)."""
        self._stop.set()

    def run(
        self, max_batches: int | None = None, idle_timeout_s: float | None = None
    ) -> RunSummary:
        """Consume until `stop()`, `max_batches` batches written, or no message for `idle_timeout_s`.

        The idle clock starts when partitions are assigned: waiting for the group join
        (up to a session timeout) is not idleness.

        Returns:
            the run's counters. Every row counted there is durable and committed, or
            will be rewritten identically by the next consumer of its partition.

        Raises:
            ConfigError: authentication or authorisation failed (terminal).
        """
        consumer = connect(self)
        if consumer is None:
            return self.summary
        started = last_message = time.monotonic()
        try:
            while not self._stop.is_set():
                records = self._poll(consumer)
                now = time.monotonic()
                if records:
                    last_message = now
                self._plan_assigned(consumer, records)
                self._buffer(records, now)
                self._flush(now)
                self._commit(consumer, now)
                backpressure(self, consumer, now)
                self._report(consumer, now)
                if max_batches is not None and self.batches_written >= max_batches:
                    break
                if (
                    idle_timeout_s is not None
                    and self._idle_s(now, started, last_message) >= idle_timeout_s
                ):
                    log.info("No message for %.1f s; stopping.", idle_timeout_s)
                    break
        finally:
            self._shutdown(consumer)
        return self.summary

    def _idle_s(self, now: float, started: float, last_message: float) -> float:
        """Seconds without a message since the last assignment. Joining the group does
        not count as idle: it may wait out a dead member's session and a rebalance."""
        if self._assigned_at is None:
            return now - started - 2 * self.kafka.session_timeout_ms / 1000
        return now - max(last_message, self._assigned_at)

    def _poll(self, consumer: Any) -> dict[Any, list[Any]]:
        return poll(self, consumer, POLL_TIMEOUT_MS, self._poll_backoff)

    def _plan_assigned(self, consumer: Any, records: dict[Any, list[Any]]) -> None:
        """Read each newly assigned partition's pending ranges before buffering its messages."""
        for tp in list(records):
            if tp not in self._buffers:
                self._unplanned.add(tp)
        for tp in sorted(self._unplanned):
            recs = records.get(tp)
            try:
                committed = consumer.committed(tp)
                ranges = self.ledger.pending(tp.topic, tp.partition, committed)
            except (KafkaError, OSError) as exc:
                log.warning(
                    "Could not read the committed offset or batch ranges; retrying.",
                    extra={"topic": tp.topic, "partition": tp.partition, "error": str(exc)},
                )
                if recs:
                    consumer.seek(tp, recs[0].offset)
                    del records[tp]
                continue
            self._unplanned.discard(tp)
            self._buffers[tp] = PartitionBuffer(tp.topic, tp.partition, ranges)
            position = recs[0].offset if recs else _position(consumer, tp)
            if ranges and (position is None or position > ranges[0].first):
                # Committed inside a recorded range (or reset past it): replay it whole.
                consumer.seek(tp, ranges[0].first)
                records.pop(tp, None)
                position = ranges[0].first
            start = committed if committed is not None else position
            if start is not None:
                self._durable[tp] = start
            if ranges:
                log.info(
                    "Replaying %d batch ranges written but not committed before.",
                    len(ranges),
                    extra={"topic": tp.topic, "partition": tp.partition},
                )

    def _buffer(self, records: dict[Any, list[Any]], now: float) -> None:
        for tp, recs in records.items():
            values, offsets = values_and_offsets(recs)
            self._buffers[tp].add(values, offsets, now)
            self.metrics.record_consumed(tp.topic, len(values))

    def _flush(self, now: float, only: set[Any] | None = None, force: bool = False) -> None:
        """Write every due batch (all complete ones when `force`); stop at the first failure."""
        if now < self._write_retry_at and not force:
            return
        k = self.kafka
        over = sum(b.nbytes for b in self._buffers.values()) > k.buffer_max_bytes
        by_size = sorted(self._buffers.items(), key=lambda item: -item[1].nbytes)
        for tp, buf in by_size:
            if only is not None and tp not in only:
                continue
            while (
                force
                or over
                or buf.due(k.flush_max_messages, k.flush_max_bytes, k.flush_interval_s, now)
            ):
                batch = buf.peek(k.flush_max_messages, k.flush_max_bytes)
                if batch is None:
                    break
                try:
                    self._write(batch)
                except SinkError as exc:
                    if isinstance(exc.__cause__, PermissionError):
                        raise  # terminal: retrying cannot help
                    self.metrics.record_write_failure()
                    delay = self._write_backoff.next()
                    self._write_retry_at = time.monotonic() + delay
                    log.warning(
                        "Writing a batch failed; retrying in %.1f s, nothing committed.",
                        delay,
                        extra={"stem": batch.stem, "error": str(exc)},
                    )
                    return
                self._write_backoff.reset()
                buf.drop(batch)
                self._uncommitted[tp] = batch.range.last + 1
                over = sum(b.nbytes for b in self._buffers.values()) > k.buffer_max_bytes

    def _write(self, batch: Batch) -> None:
        """Record the range, write rows and quarantine durably, then dead-letter the rejects."""
        started = time.monotonic()
        try:
            self.ledger.record(batch.topic, batch.partition, batch.range)
        except OSError as exc:
            raise SinkError(self.ledger.root.uri, str(exc)) from exc
        framed, message_rejects = assemble(batch, self.kafka.max_message_bytes)
        requested = self.kafka.topics.get(batch.topic, self.ingest.format)
        fmt, result = parse_batch(framed, requested, batch.topic, self.ingest)
        rejects = pa.concat_tables([message_rejects, result.rejects])
        files = self.sink.write_rows(result.rows, batch.stem)
        files += self.sink.write_quarantine(rejects, "kafka", batch.stem)
        if rejects.num_rows and self.kafka.dead_letter_topic:
            send_dead_letters(self, rejects)
        self.summary.add(fmt, ParseResult(result.rows, rejects), framed.skipped)
        self.summary.files_written += len(files)
        self.batches_written += 1
        self.metrics.record_batch(
            batch.topic,
            result.rows.num_rows,
            reject_counts(rejects),
            len(files),
            time.monotonic() - started,
        )

    def _commit(self, consumer: Any, now: float, force: bool = False) -> None:
        if not self._uncommitted or (now < self._commit_retry_at and not force):
            return
        if commit(self, consumer, dict(self._uncommitted)):
            self._commit_backoff.reset()
        else:
            self._commit_retry_at = time.monotonic() + self._commit_backoff.next()

    def committed(self, offsets: dict[Any, int]) -> None:
        """Note a successful commit: drop its range records and pending entries."""
        for tp, offset in offsets.items():
            if self._uncommitted.get(tp) == offset:
                del self._uncommitted[tp]
            if tp in self._buffers:
                self._durable[tp] = offset
            self.ledger.release(tp.topic, tp.partition, offset)
        self.metrics.record_commit(True)

    def release(self, partitions: set[Any], flush: bool) -> dict[Any, int]:
        """Give up `partitions`: write their complete batches when `flush`, else drop them.

        Returns:
            offsets to commit for them (empty when not flushing).
        """
        if flush:
            self._flush(time.monotonic(), only=partitions, force=True)
        offsets = {tp: self._uncommitted[tp] for tp in partitions if tp in self._uncommitted}
        for tp in partitions:
            # Never commit for a partition once given up: a late commit could move the
            # new owner's offset backwards. Its recorded ranges cover what is unwritten.
            self._uncommitted.pop(tp, None)
            self._buffers.pop(tp, None)
            self._unplanned.discard(tp)
            self._durable.pop(tp, None)
        self.metrics.set_state(assigned=False)
        return offsets if flush else {}

    def assigned(self, partitions: set[Any]) -> None:
        self._unplanned |= set(partitions)
        self._assigned_at = time.monotonic()
        self.metrics.set_state(assigned=True)

    def _report(self, consumer: Any, now: float) -> None:
        self.metrics.loop_tick()
        if now < self._next_report:
            return
        self._next_report = now + REPORT_EVERY_S
        report(self, consumer)

    def _shutdown(self, consumer: Any) -> None:
        try:
            self._flush(time.monotonic(), force=True)
            self._commit(consumer, time.monotonic(), force=True)
        finally:
            close(self, consumer)


def _position(consumer: Any, tp: Any) -> int | None:
    """Where consumption of `tp` starts (after an offset reset), if known within a second."""
    try:
        return consumer.position(tp, timeout_ms=1000)
    except KafkaError:
        return None
