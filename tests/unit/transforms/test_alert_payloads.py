"""Notification documents and the Slack and Alertmanager payloads built from them."""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.unit.transforms.alert_builders import minute
from transforms.alert_config import load_alert_settings
from transforms.alert_payloads import (
    ALERTMANAGER_ZERO_TIME,
    SLACK_MAX_ALERTS,
    alertmanager_payload,
    dashboard_link,
    notification_document,
    slack_payload,
)
from transforms.alert_sinks import ConsoleSink, JsonLinesSink
from transforms.alert_state import AlertEvent, Series

pytestmark = pytest.mark.unit
NASTY = "/x/<!channel>/&/`{id}`\x1b[31m"


def _event(kind="firing", template="/live/{event}/720p/index.m3u8", cdn="cloudflare", **extra):
    series = Series(
        template,
        cdn,
        status="resolved" if kind == "resolved" else "firing",
        since=minute(11),
        fired_at=minute(13),
        resolved_at=minute(27) if kind == "resolved" else None,
        severity="P2",
        metrics={
            "window_start": minute(8),
            "window_end": minute(13),
            "request_offload": 0.56,
            "byte_offload": 0.6,
            "origin_requests_per_s": 0.7,
            "cacheable_requests": 500.0,
            "origin_load_share": 0.12,
        },
        **extra,
    )
    return AlertEvent(kind, minute(27) if kind == "resolved" else minute(13), series)


def _doc(*events, **settings):
    alert_settings = load_alert_settings(**settings)
    return notification_document(events[0].at, list(events), alert_settings, 0.9)


def test_alert_document_carries_what_the_on_call_needs() -> None:
    suggestion = {"code": "QUERY_STRING_IN_CACHE_KEY", "title": "Drop sid from the cache key"}
    doc = _doc(_event(suggestion=suggestion), dashboard_url="https://dash.example/")

    assert (doc["group_key"], doc["at"], doc["status"]) == (
        "cdn-offload/2025-03-09T10:13:00Z",
        "2025-03-09T10:13:00Z",
        "firing",
    )
    [alert] = doc["alerts"]
    assert {k: alert[k] for k in ("event", "status", "cdn", "scope", "severity", "since")} == {
        "event": "firing",
        "status": "firing",
        "cdn": "cloudflare",
        "scope": "cloudflare",
        "severity": "P2",
        "since": "2025-03-09T10:11:00Z",
    }
    assert (alert["request_offload"], alert["threshold"], alert["origin_requests_per_s"]) == (
        0.56,
        0.9,
        0.7,
    )
    assert alert["suggestion"] == suggestion
    link = urlsplit(alert["dashboard_url"])
    assert (link.netloc, link.path) == ("dash.example", "/explore")
    assert parse_qs(link.query) == {
        "template": ["/live/{event}/720p/index.m3u8"],
        "cdn": ["cloudflare"],
        "from": ["2025-03-09T10:06:00Z"],  # one window before `since`
        "to": ["2025-03-09T10:13:00Z"],
    }
    json.dumps(doc)  # plain JSON all the way down


def test_dashboard_link_encodes_values_and_leaves_cdn_out_for_all_cdns() -> None:
    link = dashboard_link("http://d:8501", "/a b/{id}&x=1", None, minute(0), minute(5))

    assert link == (
        "http://d:8501/explore?template=%2Fa%20b%2F%7Bid%7D%26x%3D1"
        "&from=2025-03-09T10%3A00%3A00Z&to=2025-03-09T10%3A05%3A00Z"
    )
    assert dashboard_link(None, "/a", None, minute(0), minute(5)) is None


def test_resolved_notification() -> None:
    doc = _doc(_event("resolved"))

    assert (doc["status"], doc["firing"], doc["resolved"]) == ("resolved", 0, 1)
    assert doc["alerts"][0]["resolved_at"] == "2025-03-09T10:27:00Z"
    assert doc["alerts"][0]["dashboard_url"] is None


def test_slack_payload_escapes_viewer_controlled_text() -> None:
    payload = slack_payload(_doc(_event(template=NASTY, cdn=None)))

    text = payload["text"]
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "\x1b" not in text
    assert "`{id}`" not in json.dumps(payload["blocks"])  # backticks cannot end the code span
    assert payload["blocks"][0]["text"]["text"].startswith("*CDN offload alerts at")


def test_slack_payload_is_bounded() -> None:
    events = [_event(template=f"/t{i}") for i in range(SLACK_MAX_ALERTS + 7)]

    payload = slack_payload(_doc(*events))

    assert len(payload["blocks"]) == 1 + SLACK_MAX_ALERTS + 1
    assert payload["blocks"][-1]["text"]["text"] == "…and 7 more"


def test_alertmanager_payload_follows_the_webhook_format() -> None:
    firing = _event(suggestion={"code": "TTL_TOO_SHORT"})
    resolved = _event("resolved", template="/api/v1/match/{id}/score", cdn=None)
    doc = _doc(firing, resolved, dashboard_url="https://dash.example")

    body = alertmanager_payload(doc, external_url="https://dash.example")

    assert {
        k: body[k] for k in ("version", "status", "receiver", "truncatedAlerts", "externalURL")
    } == {
        "version": "4",
        "status": "firing",
        "receiver": "cdn-offload",
        "truncatedAlerts": 0,
        "externalURL": "https://dash.example",
    }
    assert body["groupLabels"] == {"alertname": "CdnOffloadBelowThreshold"}
    assert body["commonLabels"] == {"alertname": "CdnOffloadBelowThreshold", "severity": "P2"}
    first, second = body["alerts"]
    assert first["labels"] == {
        "alertname": "CdnOffloadBelowThreshold",
        "template": "/live/{event}/720p/index.m3u8",
        "cdn": "cloudflare",
        "severity": "P2",
    }
    assert (first["status"], first["startsAt"], first["endsAt"]) == (
        "firing",
        "2025-03-09T10:11:00Z",
        ALERTMANAGER_ZERO_TIME,
    )
    assert first["annotations"]["suggestion"] == "TTL_TOO_SHORT"
    assert first["annotations"]["request_offload"] == "0.5600"
    assert first["generatorURL"].startswith("https://dash.example/explore?")
    assert (second["status"], second["endsAt"], second["labels"]["cdn"]) == (
        "resolved",
        "2025-03-09T10:27:00Z",
        "all",
    )
    assert first["fingerprint"] != second["fingerprint"]
    assert all(isinstance(v, str) for a in body["alerts"] for v in a["labels"].values())


def test_console_sink_prints_text_never_markup() -> None:
    from rich.console import Console

    out = io.StringIO()
    ConsoleSink(Console(file=out, width=200, color_system=None)).send(
        _doc(_event(template="[bold]/x/[/bold]\x07", cdn=None))
    )

    text = out.getvalue()
    assert "[2025-03-09T10:13:00Z] CDN offload alerts: 1 firing, 0 resolved" in text
    assert "FIRING P2 [bold]/x/[/bold]? on all: offload 56.0% (threshold 90.0%)" in text
    assert "\x07" not in text


def test_json_lines_sink_appends_one_notification_per_line(tmp_path) -> None:
    path = tmp_path / "alerts.jsonl"
    sink = JsonLinesSink(str(path))
    sink.send(_doc(_event()))
    sink.send(_doc(_event("resolved")))
    sink.close()

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [n["status"] for n in lines] == ["firing", "resolved"]
