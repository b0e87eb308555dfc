"""What notifications say: the alert document, and the Slack and Alertmanager payloads.

One notification groups the events of one window end. Its JSON document is what the
JSON lines, JSON webhook and Kafka sinks send; `slack_payload` and
`alertmanager_payload` reshape it for chat webhooks and for receivers built for
Prometheus Alertmanager's webhook (payload version 4). Templates and hosts come from
viewer requests, so every text field is escaped for the format it lands in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from transforms.alert_config import AlertSettings
from transforms.alert_state import AlertEvent

ALERT_NAME = "CdnOffloadBelowThreshold"
ALERTMANAGER_ZERO_TIME = "0001-01-01T00:00:00Z"
SLACK_MAX_ALERTS = 40  # Slack allows 50 blocks per message
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_EMOJI = {"firing": ":rotating_light:", "escalated": ":arrow_double_up:", "repeat": ":bell:"}


def iso(value: datetime | None) -> str | None:
    """UTC time as `YYYY-MM-DDTHH:MM:SSZ` (None stays None)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _number(value: Any) -> float | None:
    return (
        None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value
    )


def dashboard_link(
    base_url: str | None,
    template: str,
    cdn: str | None,
    start: datetime,
    end: datetime,
) -> str | None:
    """Explore page of the dashboard filtered on the alert (`?template=&cdn=&from=&to=`).

    `cdn` is left out for an all-CDN alert. None without a configured dashboard URL.
    """
    if not base_url:
        return None
    params = {
        "template": template,
        **({"cdn": cdn} if cdn else {}),
        "from": iso(start),
        "to": iso(end),
    }
    return f"{base_url.rstrip('/')}/explore?{urlencode(params, quote_via=quote)}"


def alert_document(
    event: AlertEvent, alert_settings: AlertSettings, threshold: float
) -> dict[str, Any]:
    """One alert of a notification: what fired or resolved, how bad, since when, what to do."""
    s, m = event.series, event.series.metrics
    span = timedelta(minutes=alert_settings.window_minutes)
    start = (s.since or event.at) - span
    return {
        "id": s.key,
        "event": event.kind,
        "status": "resolved" if event.kind == "resolved" else "firing",
        "template": s.template,
        "cdn": s.cdn,
        "scope": s.cdn or "all",
        "severity": s.severity,
        "request_offload": _number(m.get("request_offload")),
        "threshold": threshold,
        "byte_offload": _number(m.get("byte_offload")),
        "origin_requests_per_s": _number(m.get("origin_requests_per_s")),
        "cacheable_requests": _number(m.get("cacheable_requests")),
        "origin_load_share": _number(m.get("origin_load_share")),
        "window": {"from": iso(m.get("window_start")), "to": iso(m.get("window_end"))},
        "since": iso(s.since),
        "fired_at": iso(s.fired_at),
        "resolved_at": iso(s.resolved_at),
        "suggestion": s.suggestion,
        "dashboard_url": dashboard_link(
            alert_settings.dashboard_url, s.template, s.cdn, start, s.resolved_at or event.at
        ),
    }


def notification_document(
    at: datetime, events: Sequence[AlertEvent], alert_settings: AlertSettings, threshold: float
) -> dict[str, Any]:
    """The notification of window end `at`: every event of that window, most severe first."""
    alerts = [alert_document(e, alert_settings, threshold) for e in events]
    firing = sum(a["status"] == "firing" for a in alerts)
    return {
        "group_key": f"cdn-offload/{iso(at)}",
        "at": iso(at),
        "status": "firing" if firing else "resolved",
        "firing": firing,
        "resolved": len(alerts) - firing,
        "alerts": alerts,
    }


def plain(value: Any) -> str:
    """Attacker-controlled text without terminal or chat control characters."""
    return _CONTROL.sub("?", "-" if value is None else str(value))


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}/s"


def suggestion_text(suggestion: dict[str, Any] | None) -> str | None:
    """A suggestion in a few words: its title, summary or code, whichever it has."""
    if not suggestion:
        return None
    for key in ("title", "summary", "action", "code"):
        if suggestion.get(key):
            return plain(suggestion[key])
    return None


def summary_line(alert: dict[str, Any]) -> str:
    """`P1 firing /live/{event}/… on cloudflare: offload 35.0% < 90.0%, origin 12.3/s, since …`."""
    state = "resolved" if alert["event"] == "resolved" else alert["event"]
    text = (
        f"{alert['severity']} {state} {plain(alert['template'])} on {plain(alert['scope'])}: "
        f"offload {pct(alert['request_offload'])} (threshold {pct(alert['threshold'])}), "
        f"origin {rate(alert['origin_requests_per_s'])}, since {alert['since']}"
    )
    hint = suggestion_text(alert["suggestion"])
    return f"{text}; suggestion: {hint}" if hint else text


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions; & < > must be entities everywhere.
    return plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_line(alert: dict[str, Any]) -> str:
    icon = ":white_check_mark:" if alert["event"] == "resolved" else _EMOJI[alert["event"]]
    template = _slack_escape(alert["template"]).replace("`", "'")
    line = (
        f"{icon} *{alert['severity']} {alert['event']}* `{template}` on "
        f"*{_slack_escape(alert['scope'])}*: offload {pct(alert['request_offload'])} "
        f"(threshold {pct(alert['threshold'])}), origin {rate(alert['origin_requests_per_s'])}, "
        f"since {alert['since']}"
    )
    hint = suggestion_text(alert["suggestion"])
    if hint:
        line += f"\n> Suggestion: {_slack_escape(hint)}"
    if alert["dashboard_url"]:
        line += f"\n<{alert['dashboard_url']}|Open in the dashboard>"
    return line


def slack_payload(notification: dict[str, Any]) -> dict[str, Any]:
    """Slack incoming-webhook message (`text` plus section `blocks`), one line per alert."""
    head = (
        f"CDN offload alerts at {notification['at']}: "
        f"{notification['firing']} firing, {notification['resolved']} resolved"
    )
    alerts = notification["alerts"]
    lines = [_slack_line(a) for a in alerts[:SLACK_MAX_ALERTS]]
    if len(alerts) > SLACK_MAX_ALERTS:
        lines.append(f"…and {len(alerts) - SLACK_MAX_ALERTS} more")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{head}*"}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": line}} for line in lines]
    return {"text": "\n".join([head, *lines]), "blocks": blocks}


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    return {k: v for k, v in maps[0].items() if all(m.get(k) == v for m in maps[1:])}


def _alertmanager_alert(alert: dict[str, Any]) -> dict[str, Any]:
    annotations = {
        "summary": summary_line(alert),
        "request_offload": ""
        if alert["request_offload"] is None
        else f"{alert['request_offload']:.4f}",
        "threshold": f"{alert['threshold']:.4f}",
        "origin_requests_per_s": ""
        if alert["origin_requests_per_s"] is None
        else f"{alert['origin_requests_per_s']:.3f}",
        "since": alert["since"] or "",
        "suggestion": suggestion_text(alert["suggestion"]) or "",
        "dashboard_url": alert["dashboard_url"] or "",
    }
    return {
        "status": alert["status"],
        "labels": {
            "alertname": ALERT_NAME,
            "template": alert["template"],
            "cdn": alert["scope"],
            "severity": alert["severity"] or "",
        },
        "annotations": {k: v for k, v in annotations.items() if v},
        "startsAt": alert["since"],
        "endsAt": alert["resolved_at"] if alert["status"] == "resolved" else ALERTMANAGER_ZERO_TIME,
        "generatorURL": alert["dashboard_url"] or "",
        "fingerprint": alert["id"],
    }


def alertmanager_payload(
    notification: dict[str, Any], receiver: str = "cdn-offload", external_url: str | None = None
) -> dict[str, Any]:
    """The body Alertmanager (version 4 webhook payload) would POST for this group of alerts."""
    alerts = [_alertmanager_alert(a) for a in notification["alerts"]]
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{ALERT_NAME}"}}',
        "truncatedAlerts": 0,
        "status": notification["status"],
        "receiver": receiver,
        "groupLabels": {"alertname": ALERT_NAME},
        "commonLabels": _common([a["labels"] for a in alerts]),
        "commonAnnotations": _common([a["annotations"] for a in alerts]),
        "externalURL": external_url or "",
        "alerts": alerts,
    }
