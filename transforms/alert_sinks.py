"""Alert sinks: console, JSON lines, webhooks (Slack, JSON, Alertmanager) and Kafka.

Each sink has a `name` and a `send(notification)` that raises `DeliveryError` (or
OSError) on failure and says whether a retry may help. How and when they are
called (queues, retries, failure counts) is transforms/alert_delivery.py's job.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import IO, Any

from transforms.alert_config import AlertSettings, redact_url
from transforms.alert_delivery import DeliveryError, Dispatcher, QueuedSink, RetryPolicy, Sink
from transforms.alert_payloads import (
    alertmanager_payload,
    pct,
    plain,
    rate,
    slack_payload,
    suggestion_text,
)

_STYLE = {"firing": "bold red", "escalated": "bold red", "repeat": "yellow", "resolved": "green"}


class ConsoleSink:
    """Human-readable notifications on a terminal (rich): a heading, then a few lines per alert.

    Viewer-controlled text (templates, suggestions) is printed as plain text, never markup.
    """

    name = "console"

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console

        self.console = console or Console()

    def send(self, notification: dict[str, Any]) -> None:
        from rich.text import Text

        heading = (
            f"[{notification['at']}] CDN offload alerts: {notification['firing']} firing, "
            f"{notification['resolved']} resolved"
        )
        lines = [Text(heading, style="bold")]
        for a in notification["alerts"]:
            line = Text("  ")
            line.append(f"{a['event'].upper()} {a['severity']}", style=_STYLE[a["event"]])
            line.append(
                f" {plain(a['template'])} on {plain(a['scope'])}: offload "
                f"{pct(a['request_offload'])} (threshold {pct(a['threshold'])}), origin "
                f"{rate(a['origin_requests_per_s'])}, since {a['since']}"
            )
            lines.append(line)
            hint = suggestion_text(a["suggestion"])
            if hint and a["event"] != "resolved":
                code = plain((a["suggestion"] or {}).get("code") or "suggestion")
                lines.append(Text(f"    {code}: {hint}", style="dim"))
            if a["dashboard_url"]:
                lines.append(Text(f"    {a['dashboard_url']}", style="dim"))
        for line in lines:
            self.console.print(line, soft_wrap=True)

    def close(self) -> None:
        return None


class JsonLinesSink:
    """One JSON notification per line, appended to a file or written to stdout (`-`)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = "jsonl:stdout" if path == "-" else "jsonl"
        self._out: IO[str] | None = None

    def send(self, notification: dict[str, Any]) -> None:
        if self._out is None:
            self._out = sys.stdout if self.path == "-" else open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        self._out.write(json.dumps(notification, sort_keys=True) + "\n")
        self._out.flush()

    def close(self) -> None:
        if self._out is not None and self._out is not sys.stdout:
            self._out.close()
        self._out = None


class WebhookSink:
    """POSTs each notification as JSON: Slack-compatible, the raw document, or Alertmanager's."""

    def __init__(
        self,
        url: str,
        payload: str = "slack",
        timeout_s: float = 5.0,
        external_url: str | None = None,
    ) -> None:
        self.url = url
        self.payload = payload
        self.timeout_s = timeout_s
        self.external_url = external_url
        self.name = f"{payload}:{redact_url(url)}"

    def body(self, notification: dict[str, Any]) -> dict[str, Any]:
        if self.payload == "slack":
            return slack_payload(notification)
        if self.payload == "alertmanager":
            return alertmanager_payload(notification, external_url=self.external_url)
        return notification

    def send(self, notification: dict[str, Any]) -> None:
        data = json.dumps(self.body(notification)).encode()
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked in settings
            self.url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "cdn-offload-alerts"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            # 4xx other than timeout/throttling means the payload or URL is wrong: no retry.
            retry = exc.code >= 500 or exc.code in (408, 429)
            after = exc.headers.get("Retry-After") if exc.headers else None
            raise DeliveryError(
                f"HTTP {exc.code}",
                retry=retry,
                retry_after_s=float(after) if after and after.isdigit() else None,
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DeliveryError(type(exc).__name__, retry=True) from None

    def close(self) -> None:
        return None


class KafkaSink:
    """One record per alert on `topic`, keyed by the alert id (an alert's events stay ordered)."""

    def __init__(self, topic: str, connection: dict[str, Any], timeout_s: float = 10.0) -> None:
        self.topic = topic
        self.connection = connection
        self.timeout_s = timeout_s
        self.name = f"kafka:{topic}"
        self._producer: Any = None

    def send(self, notification: dict[str, Any]) -> None:
        from kafka.errors import KafkaError

        try:
            if self._producer is None:
                # Created on first use, in the delivery thread: a broker that is down
                # at start-up must not hold up evaluation.
                from kafka import KafkaProducer

                self._producer = KafkaProducer(**self.connection, acks="all", linger_ms=5)
            head = {k: v for k, v in notification.items() if k != "alerts"}
            futures = [
                self._producer.send(
                    self.topic,
                    key=alert["id"].encode(),
                    value=json.dumps({**head, "alert": alert}, sort_keys=True).encode(),
                )
                for alert in notification["alerts"]
            ]
            for future in futures:
                future.get(timeout=self.timeout_s)
        except KafkaError as exc:
            raise DeliveryError(type(exc).__name__, retry=True) from None

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=self.timeout_s)
            self._producer = None


def build_dispatcher(
    alert_settings: AlertSettings,
    kafka_connection: dict[str, Any] | None = None,
    console: Any = None,
) -> Dispatcher:
    """Every sink the settings ask for; network sinks behind background queues.

    `kafka_connection` (kafka-python keyword arguments) is needed with `kafka_topic`.
    """
    direct: list[Sink] = []
    if alert_settings.console:
        direct.append(ConsoleSink(console))
    if alert_settings.jsonl_path:
        direct.append(JsonLinesSink(alert_settings.jsonl_path))
    remote: list[Sink] = [
        WebhookSink(
            u.get_secret_value(), alert_settings.webhook_format, alert_settings.webhook_timeout_s
        )
        for u in alert_settings.webhooks
    ]
    remote += [
        WebhookSink(
            u.get_secret_value(),
            "alertmanager",
            alert_settings.webhook_timeout_s,
            external_url=alert_settings.dashboard_url,
        )
        for u in alert_settings.alertmanager_urls
    ]
    if alert_settings.kafka_topic:
        if kafka_connection is None:
            raise ValueError("kafka_topic needs Kafka connection settings")
        remote.append(KafkaSink(alert_settings.kafka_topic, kafka_connection))
    names: set[str] = set()
    for sink in remote:
        # Two endpoints on one host would share a name (and counters): number them.
        base, n = sink.name, 2
        while sink.name in names:
            sink.name, n = f"{base}#{n}", n + 1
        names.add(sink.name)
    policy = RetryPolicy(
        alert_settings.delivery_attempts,
        alert_settings.backoff_initial_s,
        alert_settings.backoff_max_s,
    )
    queued = [
        QueuedSink(s, policy, alert_settings.queue_max, alert_settings.failing_after)
        for s in remote
    ]
    return Dispatcher([*direct, *queued])
