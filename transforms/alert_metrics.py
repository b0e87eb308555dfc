"""Prometheus metrics of the alert evaluator: `/metrics` (text format) and `/healthz`.

Gauges carry the current request offload and origin rate of flagged series (a
template over all CDNs, or on one CDN, that breaches in the newest window or has an
alert firing), at most `top_series` of them by share of origin load, so label
cardinality stays bounded however many templates misbehave; how many were left out
is a gauge too. Teams that alert from Prometheus can alert on these. A stdlib HTTP
server runs in a daemon thread; the evaluator only swaps a snapshot under a lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from transforms.alert_delivery import DeliveryStats

PREFIX = "cdn_offload_alert"
MAX_LABEL_CHARS = 200


def _label_value(value: object) -> str:
    text = str(value)[:MAX_LABEL_CHARS]
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: object) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_label_value(v)}"' for k, v in sorted(labels.items())) + "}"


def _number(value: float | None) -> str:
    return "NaN" if value is None else repr(float(value))


@dataclass
class FlaggedSeries:
    """A breaching or firing series in the newest window, as exported."""

    template: str
    scope: str
    severity: str
    firing: bool
    request_offload: float | None
    origin_requests_per_s: float | None
    origin_load_share: float


@dataclass
class Snapshot:
    threshold: float = 0.0
    last_window_end_s: float | None = None
    firing_by_severity: dict[str, int] = field(default_factory=dict)
    flagged: list[FlaggedSeries] = field(default_factory=list)
    flagged_left_out: int = 0
    cycles: int = 0
    cycle_failures: int = 0
    last_cycle_s: float | None = None


class AlertMetrics:
    """The newest evaluation and delivery counts, rendered in the Prometheus text format."""

    def __init__(
        self,
        top_series: int = 20,
        delivery_stats: Callable[[], dict[str, DeliveryStats]] | None = None,
    ) -> None:
        self.top_series = top_series
        self.delivery_stats = delivery_stats or dict
        self._lock = threading.Lock()
        self._snapshot = Snapshot()

    def update(
        self,
        *,
        threshold: float,
        last_window_end_s: float | None,
        firing_by_severity: dict[str, int],
        flagged: Iterable[FlaggedSeries],
    ) -> None:
        """Replace the evaluation gauges; keeps the `top_series` flagged series by origin share."""
        ranked = sorted(flagged, key=lambda f: (-f.origin_load_share, f.template, f.scope))
        with self._lock:
            snap = self._snapshot
            snap.threshold = threshold
            snap.last_window_end_s = last_window_end_s
            snap.firing_by_severity = dict(firing_by_severity)
            snap.flagged = ranked[: self.top_series]
            snap.flagged_left_out = max(0, len(ranked) - self.top_series)

    def record_cycle(self, ok: bool) -> None:
        with self._lock:
            self._snapshot.cycles += 1
            self._snapshot.cycle_failures += 0 if ok else 1
            self._snapshot.last_cycle_s = time.time()

    def render(self) -> str:
        """All metrics in the Prometheus text exposition format (version 0.0.4)."""
        with self._lock:
            snap = Snapshot(**vars(self._snapshot))
        lines: list[str] = []

        def metric(
            name: str, kind: str, doc: str, samples: list[tuple[dict, float | None]]
        ) -> None:
            lines.append(f"# HELP {PREFIX}_{name} {doc}")
            lines.append(f"# TYPE {PREFIX}_{name} {kind}")
            lines.extend(f"{PREFIX}_{name}{_labels(**lb)} {_number(v)}" for lb, v in samples)

        metric(
            "threshold",
            "gauge",
            "Request offload under which a window breaches.",
            [({}, snap.threshold)],
        )
        metric(
            "request_offload",
            "gauge",
            "Request offload of flagged template x scope series in the newest window.",
            [({"template": f.template, "cdn": f.scope}, f.request_offload) for f in snap.flagged],
        )
        metric(
            "origin_requests_per_second",
            "gauge",
            "Origin requests per second of flagged series in the newest window.",
            [
                ({"template": f.template, "cdn": f.scope}, f.origin_requests_per_s)
                for f in snap.flagged
            ],
        )
        metric(
            "firing",
            "gauge",
            "1 for a flagged series with an alert firing, else 0, with its severity.",
            [
                (
                    {"template": f.template, "cdn": f.scope, "severity": f.severity},
                    1.0 if f.firing else 0.0,
                )
                for f in snap.flagged
            ],
        )
        metric(
            "flagged_series_left_out",
            "gauge",
            "Flagged series not exported because of the top-series bound.",
            [({}, snap.flagged_left_out)],
        )
        metric(
            "alerts_firing",
            "gauge",
            "Alerts firing, by severity.",
            [({"severity": s}, snap.firing_by_severity.get(s, 0)) for s in ("P1", "P2", "P3")],
        )
        if snap.last_window_end_s is not None:
            metric(
                "last_window_end_timestamp_seconds",
                "gauge",
                "End of the newest evaluated window (data time).",
                [({}, snap.last_window_end_s)],
            )
        metric("cycles_total", "counter", "Evaluation cycles run.", [({}, snap.cycles)])
        metric(
            "cycle_failures_total",
            "counter",
            "Evaluation cycles that failed.",
            [({}, snap.cycle_failures)],
        )
        stats = self.delivery_stats()
        deliveries: list[tuple[dict, float | None]] = []
        for sink, st in sorted(stats.items()):
            for outcome in ("delivered", "failed", "dropped"):
                deliveries.append(({"sink": sink, "outcome": outcome}, getattr(st, outcome)))
        metric("deliveries_total", "counter", "Notifications per sink and outcome.", deliveries)
        metric(
            "sink_failing",
            "gauge",
            "1 while a sink keeps failing.",
            [({"sink": sink}, 1.0 if st.failing else 0.0) for sink, st in sorted(stats.items())],
        )
        return "\n".join(lines) + "\n"


class _Handler(BaseHTTPRequestHandler):
    metrics: AlertMetrics

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/metrics":
            body, kind = self.metrics.render().encode(), "text/plain; version=0.0.4; charset=utf-8"
        elif self.path.split("?", 1)[0] == "/healthz":
            body, kind = b'{"status": "ok"}', "application/json"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None  # scrapes every few seconds would flood the log


class MetricsServer:
    """Serves `metrics` on host:port (port 0 picks a free one) until `close`."""

    def __init__(self, metrics: AlertMetrics, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("AlertMetricsHandler", (_Handler,), {"metrics": metrics})
        self._server = ThreadingHTTPServer((host, port), handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="alert-metrics", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
