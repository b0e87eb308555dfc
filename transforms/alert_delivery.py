"""Delivery of notifications: retries with backoff and jitter, background queues, counts.

Console and JSON lines sinks are called in the evaluation thread (local and fast);
network sinks go through `QueuedSink`, a bounded queue drained by a background
thread with timeouts and retries (exponential backoff with jitter), so evaluation
never waits on a receiver. A sink that keeps failing is logged and counted
(`DeliveryStats`), never fatal.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Sink(Protocol):
    name: str

    def send(self, notification: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class DeliveryError(Exception):
    """A delivery failed; `retry` says whether trying again may help."""

    def __init__(self, message: str, *, retry: bool, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry = retry
        self.retry_after_s = retry_after_s


@dataclass
class DeliveryStats:
    """Outcome counts of one sink; `failing` once `failing_after` deliveries failed in a row."""

    delivered: int = 0
    failed: int = 0
    dropped: int = 0
    retries: int = 0
    consecutive_failures: int = 0
    failing: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    initial_s: float = 0.5
    max_s: float = 30.0

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """Backoff before retry `attempt` (1-based): exponential, half of it jittered."""
        ceiling = min(self.max_s, self.initial_s * 2 ** (attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


def deliver_with_retries(
    sink: Sink,
    notification: dict[str, Any],
    policy: RetryPolicy,
    stats: DeliveryStats,
    sleep: Callable[[float], Any] = time.sleep,
    rng: random.Random | None = None,
) -> bool:
    """Send with retries per `policy`; True when delivered. Failures are counted, not raised."""
    rng = rng or random.Random()
    for attempt in range(1, policy.attempts + 1):
        try:
            sink.send(notification)
        except (DeliveryError, OSError) as exc:
            retry = getattr(exc, "retry", True) and attempt < policy.attempts
            log.warning(
                "Alert delivery failed.",
                extra={"sink": sink.name, "attempt": attempt, "error": str(exc), "retry": retry},
            )
            if not retry:
                break
            stats.retries += 1
            wait = policy.delay_s(attempt, rng)
            after = getattr(exc, "retry_after_s", None)
            sleep(min(policy.max_s, max(wait, after or 0.0)))
            continue
        stats.delivered += 1
        stats.consecutive_failures = 0
        if stats.failing:
            stats.failing = False
            log.info("Alert sink recovered.", extra={"sink": sink.name})
        return True
    stats.failed += 1
    stats.consecutive_failures += 1
    return False


class QueuedSink:
    """Delivers to `sink` from a background thread; `send` only enqueues and never blocks."""

    def __init__(
        self, sink: Sink, policy: RetryPolicy, queue_max: int = 1000, failing_after: int = 3
    ) -> None:
        self.sink = sink
        self.name = sink.name
        self.policy = policy
        self.failing_after = failing_after
        self.stats = DeliveryStats()
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=queue_max)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"alerts-{self.name}", daemon=True)
        self._thread.start()

    def send(self, notification: dict[str, Any]) -> None:
        while True:
            try:
                self._queue.put_nowait(notification)
                return
            except queue.Full:
                # The receiver is far behind: the oldest notification matters least.
                try:
                    self._queue.get_nowait()
                    with self._lock:
                        self.stats.dropped += 1
                except queue.Empty:
                    pass

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            ok = deliver_with_retries(self.sink, item, self.policy, self.stats)
            if not ok and self.stats.consecutive_failures >= self.failing_after:
                if not self.stats.failing:
                    log.error(
                        "Alert sink keeps failing; notifications are being lost.",
                        extra={"sink": self.name, "failed": self.stats.failed},
                    )
                self.stats.failing = True

    def close(self, timeout_s: float = 10.0) -> None:
        """Deliver what is queued (waiting up to `timeout_s`), then stop the thread."""
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout_s)
        self._thread.join(timeout_s)
        self.sink.close()


class Dispatcher:
    """Hands each notification to every sink; failures are counted per sink, never raised."""

    def __init__(self, sinks: Sequence[Sink | QueuedSink]) -> None:
        self.sinks = list(sinks)
        self._direct_stats = {
            s.name: DeliveryStats() for s in self.sinks if not isinstance(s, QueuedSink)
        }

    def dispatch(self, notification: dict[str, Any]) -> None:
        for sink in self.sinks:
            if isinstance(sink, QueuedSink):
                sink.send(notification)
                continue
            stats = self._direct_stats[sink.name]
            deliver_with_retries(sink, notification, RetryPolicy(attempts=1), stats)

    def stats(self) -> dict[str, DeliveryStats]:
        """Delivery counts per sink name."""
        out = dict(self._direct_stats)
        out.update({s.name: s.stats for s in self.sinks if isinstance(s, QueuedSink)})
        return out

    def close(self, timeout_s: float = 10.0) -> None:
        for sink in self.sinks:
            if isinstance(sink, QueuedSink):
                sink.close(timeout_s)
            else:
                sink.close()
