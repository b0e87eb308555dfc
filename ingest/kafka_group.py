"""kafka-python plumbing of the Kafka source: connect, poll, commit, rebalance, close.

Transient broker trouble (unreachable, coordinator moving, request time-outs) is
logged and retried with exponential backoff and jitter; offsets are only ever
committed for batches already durable. Authentication and authorisation failures
are terminal and surface as `ConfigError` naming the security settings.
"""

from __future__ import annotations

import logging
import random
import ssl
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from kafka import AsyncConsumerRebalanceListener, KafkaConsumer, KafkaProducer
from kafka.errors import (
    AuthorizationError,
    CommitFailedError,
    KafkaError,
    SaslAuthenticationFailedError,
    UnsupportedSaslMechanismError,
)
from kafka.structs import OffsetAndMetadata, TopicPartition

from ingest import kafka_records
from ingest.errors import ConfigError, SinkError

if TYPE_CHECKING:
    from ingest.kafka_source import KafkaSource

log = logging.getLogger(__name__)

_TERMINAL = (
    AuthorizationError,
    SaslAuthenticationFailedError,
    UnsupportedSaslMechanismError,
    ssl.SSLCertVerificationError,
)


class Backoff:
    """Exponential backoff with jitter: the n-th delay is uniform in [c/2, c], c = min(max, base*2^n)."""

    def __init__(self, initial_s: float, max_s: float) -> None:
        self.initial_s, self.max_s, self.attempts = initial_s, max_s, 0

    def next(self) -> float:
        ceiling = min(self.max_s, self.initial_s * (2**self.attempts))
        self.attempts += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempts = 0


def _terminal(exc: BaseException) -> ConfigError:
    return ConfigError(
        "kafka.security_protocol/sasl_*/ssl_*",
        f"the cluster refused this client ({type(exc).__name__}: {exc}); check credentials "
        "and ACLs for the topics and group",
    )


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, OSError) or (
        isinstance(exc, KafkaError) and not isinstance(exc, _TERMINAL) and exc.retriable
    )


class _Rebalance(AsyncConsumerRebalanceListener):
    """Flush and commit before partitions go; plan replays when they come.

    kafka-python runs listeners on its IO thread while `poll()` blocks the consume
    loop, so the source's buffers are not touched concurrently. The listener is async
    only so it can await the commit on that thread.
    """

    def __init__(self, source: KafkaSource) -> None:
        self.source = source

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        offsets = self.source.release(set(revoked), flush=True)
        if not offsets:
            return
        consumer = self.source._consumer
        # kafka-python has no public awaitable commit; its own auto-commit awaits this
        # coroutine at the same point of a rebalance. Without it, the ranges still hold.
        commit_async = getattr(
            getattr(consumer, "_coordinator", None), "_commit_offsets_sync_async", None
        )
        if commit_async is None:
            log.warning("Cannot commit during a rebalance; the next owner replays the same ranges.")
            return
        try:
            await commit_async(
                _as_offsets(offsets), timeout_ms=self.source.kafka.request_timeout_ms
            )
        except KafkaError as exc:
            self.source.metrics.record_commit(False)
            log.warning(
                "Commit before giving up partitions failed; the next owner replays the same ranges.",
                extra={"error": str(exc)},
            )
            return
        self.source.committed(offsets)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info(
            "Partitions assigned.",
            extra={"partitions": sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned)},
        )
        self.source.assigned(set(assigned))

    async def on_partitions_lost(self, lost: set[TopicPartition]) -> None:
        log.warning(
            "Group membership lost; dropping unwritten messages of %d partitions.", len(lost)
        )
        self.source.release(set(lost), flush=False)


def _as_offsets(offsets: dict[Any, int]) -> dict[TopicPartition, OffsetAndMetadata]:
    return {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()}


def connect(source: KafkaSource) -> KafkaConsumer | None:
    """A consumer subscribed to the source's topics, retrying until brokers answer.

    Returns:
        the consumer, or None when `source.stop()` was called while waiting.

    Raises:
        ConfigError: the cluster rejected the credentials or the settings.
    """
    settings = source.kafka
    backoff = Backoff(settings.backoff_initial_s, settings.backoff_max_s)
    config = settings.consumer_config()
    if "bootstrap_timeout_ms" in KafkaConsumer.DEFAULT_CONFIG:
        config["bootstrap_timeout_ms"] = min(settings.request_timeout_ms, 10_000)
    while not source._stop.is_set():
        try:
            consumer = KafkaConsumer(**config)
        except _TERMINAL as exc:
            raise _terminal(exc) from exc
        except KafkaError as exc:
            if not _transient(exc) and "bootstrap" not in str(exc).lower():
                raise ConfigError("kafka", f"{type(exc).__name__}: {exc}") from exc
            delay = backoff.next()
            log.warning(
                "Kafka brokers unreachable (or refusing the credentials); retrying in %.1f s.",
                delay,
                extra={"bootstrap_servers": settings.bootstrap_servers, "error": str(exc)},
            )
            source._stop.wait(delay)
            continue
        if settings.record_blocks:
            kafka_records.install(consumer)
        consumer.subscribe(sorted(settings.topics), listener=_Rebalance(source))
        source._consumer = consumer
        log.info(
            "Consumer started.",
            extra={"group": settings.group_id, "topics": sorted(settings.topics)},
        )
        return consumer
    return None


def poll(
    source: KafkaSource, consumer: KafkaConsumer, timeout_ms: int, backoff: Backoff
) -> dict[Any, list[Any]]:
    """One poll; transient errors are logged and backed off, returning no records."""
    try:
        records = consumer.poll(timeout_ms=timeout_ms)
        backoff.reset()
        return records
    except _TERMINAL as exc:
        raise _terminal(exc) from exc
    except KafkaError as exc:
        cause = exc.__cause__ or exc
        if isinstance(cause, ConfigError | SinkError):
            raise cause from exc
        if not _transient(exc) and not _transient(cause):
            raise
        delay = backoff.next()
        log.warning("Polling Kafka failed; retrying in %.1f s.", delay, extra={"error": str(exc)})
        source._stop.wait(delay)
        return {}


def commit(source: KafkaSource, consumer: KafkaConsumer, offsets: dict[Any, int]) -> bool:
    """Commit `offsets` (all durable); False when it must be retried later."""
    try:
        consumer.commit(_as_offsets(offsets))
    except _TERMINAL as exc:
        raise _terminal(exc) from exc
    except CommitFailedError as exc:
        # The group moved on: the rebalance listener commits what is still owned, and
        # the next owner of the rest replays the same recorded ranges.
        source.metrics.record_commit(False)
        log.warning(
            "Commit rejected by a rebalance; it is retried after the rejoin.",
            extra={"error": str(exc)},
        )
        return False
    except KafkaError as exc:
        source.metrics.record_commit(False)
        if not _transient(exc):
            raise
        log.warning(
            "Commit failed; retrying with backoff. Nothing past written data is committed.",
            extra={"error": str(exc)},
        )
        return False
    source.committed(offsets)
    return True


def send_dead_letters(source: KafkaSource, rejects: pa.Table) -> None:
    """Publish each quarantined record to the dead-letter topic and wait for the acks.

    Raises:
        SinkError: the dead-letter topic did not acknowledge; the batch is retried.
    """
    settings = source.kafka
    if source._dead_letters is None:
        source._dead_letters = KafkaProducer(
            **settings.connection_config(), acks="all", linger_ms=5
        )
    producer = source._dead_letters
    cols = rejects.select(
        [
            "raw",
            "_source_topic",
            "_source_partition",
            "_source_offset",
            "_source_line",
            "stage",
            "reason_code",
        ]
    ).to_pylist()
    try:
        for rec in cols:
            headers = [(k, str(v).encode()) for k, v in rec.items() if k != "raw" and v is not None]
            producer.send(settings.dead_letter_topic, value=rec["raw"] or b"", headers=headers)
        producer.flush(timeout=settings.request_timeout_ms / 1000)
    except KafkaError as exc:
        raise SinkError(f"kafka:{settings.dead_letter_topic}", str(exc)) from exc


def backpressure(source: KafkaSource, consumer: KafkaConsumer, now: float) -> None:
    """Pause fetching while writes fail or buffers are full; resume once they drain."""
    full = sum(b.nbytes for b in source._buffers.values()) >= source.kafka.buffer_max_bytes
    failing = now < source._write_retry_at
    want = set()
    if failing or full:
        # A partition waiting for the rest of a planned range must keep fetching.
        want = {
            tp
            for tp in consumer.assignment()
            if failing or tp not in source._buffers or not source._buffers[tp].replaying
        }
    paused = consumer.paused()
    if want - paused:
        log.warning("Pausing %d partitions (writes failing or buffers full).", len(want - paused))
        consumer.pause(*(want - paused))
    if paused - want:
        consumer.resume(*(paused - want))
    if want != paused:
        source.metrics.set_state(paused_partitions=len(want))


def report(source: KafkaSource, consumer: KafkaConsumer) -> None:
    """Refresh lag, buffer and reachability gauges; log reachability changes once."""
    lag = {}
    assignment = consumer.assignment()
    for tp in assignment:
        high = consumer.highwater(tp)
        done = source._durable.get(tp)
        if high is not None and done is not None:
            lag[(tp.topic, tp.partition)] = max(0, high - done)
    metrics = consumer.metrics()
    connections = metrics.get("consumer-metrics", {}).get("connection-count", 0)
    reachable = bool(connections and connections > 0)
    if reachable != source._reachable:
        if reachable:
            log.info("Kafka brokers reachable again.")
        else:
            log.warning("Kafka brokers unreachable; kafka-python reconnects with backoff.")
        source._reachable = reachable
    source.metrics.set_state(
        lag=lag,
        buffered_bytes=sum(b.nbytes for b in source._buffers.values()),
        paused_partitions=len(consumer.paused()),
        assigned_partitions=len(assignment),
        broker_reachable=reachable,
    )


def close(source: KafkaSource, consumer: KafkaConsumer) -> None:
    """Leave the group and close clients (buffers were flushed and committed before)."""
    try:
        consumer.close(autocommit=False)
    except KafkaError as exc:
        log.warning("Closing the consumer failed.", extra={"error": str(exc)})
    if source._dead_letters is not None:
        source._dead_letters.close()
        source._dead_letters = None
    log.info("Consumer closed.", extra={"summary": source.summary.as_json()})
