"""Operations endpoints of the Kafka consumer: `/healthz`, `/readyz` and `/metrics`.

`/healthz` (liveness) answers 200 while the consume loop keeps turning. `/readyz`
answers 200 once the consumer holds a partition assignment, reaches the broker and
its lag is under the threshold, else 503 with the failing checks. `/metrics` is the
Prometheus text format. A stdlib HTTP server runs in a daemon thread; the consume
loop only updates counters under a lock.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FLUSH_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
PREFIX = "cdn_offload_kafka"


def _labels(**labels: object) -> str:
    if not labels:
        return ""
    esc = {k: str(v).replace("\\", "\\\\").replace('"', '\\"') for k, v in labels.items()}
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(esc.items())) + "}"


class Metrics:
    """Counters and gauges of one consumer process, safe to read from another thread."""

    def __init__(self, *, max_lag_records: int = 1_000_000, stall_after_s: float = 60.0) -> None:
        self._lock = threading.Lock()
        self.max_lag_records = max_lag_records
        self.stall_after_s = stall_after_s
        self.consumed: Counter[str] = Counter()
        self.rows_written: Counter[str] = Counter()
        self.quarantined: Counter[tuple[str, str]] = Counter()
        self.files_written = 0
        self.batches_written = 0
        self.commits = 0
        self.commit_failures = 0
        self.write_failures = 0
        self.flush_buckets = [0] * len(FLUSH_BUCKETS_S)
        self.flush_count = 0
        self.flush_sum_s = 0.0
        self.lag: dict[tuple[str, int], int] = {}
        self.buffered_bytes = 0
        self.paused_partitions = 0
        self.assigned = False
        self.assigned_partitions = 0
        self.broker_reachable = False
        self.last_loop_s = time.monotonic()
        self.last_commit_unix_s = 0.0

    def loop_tick(self) -> None:
        with self._lock:
            self.last_loop_s = time.monotonic()

    def record_consumed(self, topic: str, messages: int) -> None:
        with self._lock:
            self.consumed[topic] += messages

    def record_batch(
        self, topic: str, rows: int, rejects: dict[str, int], files: int, seconds: float
    ) -> None:
        with self._lock:
            self.rows_written[topic] += rows
            for reason, n in rejects.items():
                self.quarantined[(topic, reason)] += n
            self.files_written += files
            self.batches_written += 1
            self.flush_count += 1
            self.flush_sum_s += seconds
            for i, bound in enumerate(FLUSH_BUCKETS_S):
                if seconds <= bound:
                    self.flush_buckets[i] += 1

    def record_commit(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self.commits += 1
                self.last_commit_unix_s = time.time()
            else:
                self.commit_failures += 1

    def record_write_failure(self) -> None:
        with self._lock:
            self.write_failures += 1

    def set_state(self, **state: object) -> None:
        """Set gauges: lag (dict), buffered_bytes, paused_partitions, assigned, broker_reachable."""
        with self._lock:
            for name, value in state.items():
                if not hasattr(self, name):
                    raise AttributeError(name)
                setattr(self, name, value)

    def readiness(self) -> tuple[bool, dict[str, object]]:
        """(ready, checks): assignment received, broker reachable, total lag under the limit."""
        with self._lock:
            lag = sum(self.lag.values())
            checks: dict[str, object] = {
                "assignment_received": self.assigned,
                "broker_reachable": self.broker_reachable,
                "lag_records": lag,
                "lag_under_threshold": lag <= self.max_lag_records,
            }
        ready = bool(
            checks["assignment_received"]
            and checks["broker_reachable"]
            and checks["lag_under_threshold"]
        )
        return ready, checks

    def alive(self) -> tuple[bool, float]:
        """(alive, seconds since the consume loop last turned)."""
        with self._lock:
            idle = time.monotonic() - self.last_loop_s
        return idle <= self.stall_after_s, idle

    def render(self) -> str:
        """All metrics in the Prometheus text exposition format."""
        ready, _ = self.readiness()
        out: list[str] = []

        def metric(name: str, kind: str, help_: str, samples: list[tuple[str, float]]) -> None:
            out.append(f"# HELP {PREFIX}_{name} {help_}")
            out.append(f"# TYPE {PREFIX}_{name} {kind}")
            out.extend(f"{PREFIX}_{name}{labels} {value:g}" for labels, value in samples)

        with self._lock:
            metric(
                "records_consumed_total",
                "counter",
                "Kafka messages consumed.",
                [(_labels(topic=t), n) for t, n in sorted(self.consumed.items())],
            )
            metric(
                "rows_written_total",
                "counter",
                "Canonical rows written to Parquet.",
                [(_labels(topic=t), n) for t, n in sorted(self.rows_written.items())],
            )
            metric(
                "rows_quarantined_total",
                "counter",
                "Lines or messages quarantined.",
                [(_labels(topic=t, reason=r), n) for (t, r), n in sorted(self.quarantined.items())],
            )
            metric(
                "files_written_total",
                "counter",
                "Parquet files written.",
                [("", self.files_written)],
            )
            metric(
                "batches_written_total",
                "counter",
                "Batches made durable.",
                [("", self.batches_written)],
            )
            metric("commits_total", "counter", "Successful offset commits.", [("", self.commits)])
            metric(
                "commit_failures_total",
                "counter",
                "Failed offset commits.",
                [("", self.commit_failures)],
            )
            metric(
                "write_failures_total",
                "counter",
                "Failed batch writes (retried).",
                [("", self.write_failures)],
            )
            out.append(f"# HELP {PREFIX}_flush_duration_seconds Time to parse and write one batch.")
            out.append(f"# TYPE {PREFIX}_flush_duration_seconds histogram")
            for bound, n in zip(FLUSH_BUCKETS_S, self.flush_buckets, strict=True):
                out.append(f'{PREFIX}_flush_duration_seconds_bucket{{le="{bound:g}"}} {n}')
            out.append(f'{PREFIX}_flush_duration_seconds_bucket{{le="+Inf"}} {self.flush_count}')
            out.append(f"{PREFIX}_flush_duration_seconds_sum {self.flush_sum_s:g}")
            out.append(f"{PREFIX}_flush_duration_seconds_count {self.flush_count}")
            metric(
                "lag_records",
                "gauge",
                "Messages not yet durably written, per partition.",
                [(_labels(topic=t, partition=p), n) for (t, p), n in sorted(self.lag.items())],
            )
            metric(
                "buffered_bytes",
                "gauge",
                "Message bytes buffered in memory.",
                [("", self.buffered_bytes)],
            )
            metric(
                "paused_partitions",
                "gauge",
                "Partitions paused for back-pressure.",
                [("", self.paused_partitions)],
            )
            metric(
                "assigned_partitions",
                "gauge",
                "Partitions currently assigned.",
                [("", self.assigned_partitions)],
            )
            metric(
                "broker_reachable",
                "gauge",
                "1 when the group coordinator answers.",
                [("", int(self.broker_reachable))],
            )
            metric(
                "last_commit_timestamp_seconds",
                "gauge",
                "Unix time of the last commit.",
                [("", self.last_commit_unix_s)],
            )
        metric("ready", "gauge", "1 when /readyz answers 200.", [("", int(ready))])
        return "\n".join(out) + "\n"


class _Handler(BaseHTTPRequestHandler):
    metrics: Metrics

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, self.metrics.render(), "text/plain; version=0.0.4; charset=utf-8")
        elif path == "/healthz":
            alive, idle = self.metrics.alive()
            live = {"status": "ok" if alive else "stalled", "loop_idle_s": round(idle, 3)}
            self._send(200 if alive else 503, json.dumps(live), "application/json")
        elif path == "/readyz":
            ready, checks = self.metrics.readiness()
            body = {"status": "ready" if ready else "not_ready", "checks": checks}
            self._send(200 if ready else 503, json.dumps(body), "application/json")
        else:
            self._send(404, json.dumps({"error": "not found"}), "application/json")

    def _send(self, code: int, body: str, content_type: str) -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return  # probes every few seconds would flood the log


class HealthServer:
    """The endpoints served from a daemon thread; `port` is the bound port (0 picks one)."""

    def __init__(self, metrics: Metrics, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("Handler", (_Handler,), {"metrics": metrics})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health-http", daemon=True
        )

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
