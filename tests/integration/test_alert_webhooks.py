"""Alert webhooks against a real HTTP receiver on loopback, with generated match traffic.

The match (200k requests over 60 minutes, seed 42) is generated, ingested from the
vendor files and rolled up once per module. Its ground truth (match.json) plants a
mid-match problem: Cloudflare variant playlists get `sid` in the cache key between
the `cdn_config_push` and `cdn_config_rollback` events. Template rules from the
ground truth map paths to the generator's templates. The live evaluator is driven
through the match with `run_cycle(until=...)`, five minutes of data at a time.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cdn_offload.generator.config import GeneratorConfig
from cdn_offload.generator.run import generate
from ingest.config import load_settings as load_ingest_settings
from ingest.file_source import ingest_files
from ingest.storage import Location, resolve
from tests.unit.transforms.alert_builders import minute, series, steady, write_rollups
from transforms import rollups
from transforms.alert_config import AlertSettings, load_alert_settings
from transforms.alert_sinks import build_dispatcher
from transforms.alert_watch import AlertEvaluator
from transforms.config import TransformSettings, load_settings

VARIANT = "/live/{event}/{rendition}/index.m3u8"
STEP = timedelta(minutes=5)


class Receiver:
    """Records every POST (path, JSON body); answers 500 to the first `fail_first` per path."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, Any]] = []
        self.fail_first: dict[str, int] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver._lock:
                    receiver.posts.append((self.path, body))
                    failing = receiver.fail_first.get(self.path, 0)
                    receiver.fail_first[self.path] = max(0, failing - 1)
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def bodies(self, path: str) -> list[Any]:
        with self._lock:
            return [body for p, body in self.posts if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@dataclass(frozen=True)
class Match:
    data: Location
    settings: TransformSettings
    truth: dict[str, Any]

    def at(self, event: str) -> datetime:
        time_ = next(e["time"] for e in self.truth["timeline"] if e["event"] == event)
        return datetime.fromisoformat(time_.replace("Z", "+00:00"))

    def healthy_templates(self) -> set[str]:
        return {t["path_template"] for t in self.truth["templates"] if t["problem"] is None}


@pytest.fixture(scope="module")
def match(tmp_path_factory: pytest.TempPathFactory) -> Match:
    root = tmp_path_factory.mktemp("alert-match")
    generate(GeneratorConfig(rows=200_000, duration_min=60), root / "gen")
    truth = json.loads((root / "gen" / "match.json").read_text())
    vendor_dirs = [str(root / "gen" / cdn) for cdn in truth["parameters"]["cdns"]]
    ingest_files(vendor_dirs, load_ingest_settings(out=str(root / "data")))
    rules = [
        {"pattern": t["path_regex"], "template": t["path_template"]} for t in truth["templates"]
    ]
    settings = load_settings(template_rules=rules)
    data = resolve(str(root / "data"))
    rollups.update_rollups(data, settings)
    return Match(data, settings, truth)


def _alert_settings(receiver: Receiver, state: Path, **extra: Any) -> AlertSettings:
    values = {
        "min_requests": 300,
        "renotify_interval_s": 0,
        "console": False,
        "webhooks": [receiver.url("/json")],
        "webhook_format": "json",
        "alertmanager_urls": [receiver.url("/am")],
        "dashboard_url": "http://dashboard.test:8501",
        "state_path": str(state),
        "backoff_initial_s": 0.05,
        "backoff_max_s": 0.2,
        **extra,
    }
    return load_alert_settings(**values)


def _evaluator(
    data: Location, settings: TransformSettings, alert_settings: AlertSettings
) -> AlertEvaluator:
    dispatcher = build_dispatcher(alert_settings)
    return AlertEvaluator(data, settings, alert_settings, dispatcher, maintain_rollups=False)


def _drive(evaluator: AlertEvaluator, start: datetime, end: datetime) -> None:
    """Live cycles over [start, end], five minutes of data at a time, then drain the sinks."""
    until = start
    while until <= end:
        evaluator.run_cycle(until=until)
        until += STEP


def _events(notifications: list[dict]) -> list[tuple[str, str, str, str]]:
    return [
        (n["at"], a["event"], a["template"], a["scope"]) for n in notifications for a in n["alerts"]
    ]


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def whole_match(match: Match, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """What the receiver got from a live run over the whole match, per path (/json, /am)."""
    receiver = Receiver()
    state = tmp_path_factory.mktemp("whole-match") / "state.json"
    alert_settings = _alert_settings(receiver, state, renotify_interval_s=600)
    evaluator = _evaluator(match.data, match.settings, alert_settings)
    _drive(evaluator, match.at("stream_start") + STEP, match.at("stream_end"))
    evaluator.close()
    receiver.close()
    return {path: receiver.bodies(path) for path in ("/json", "/am")}


def test_planted_problem_fires_on_cloudflare_and_resolves_after_rollback(
    match: Match, whole_match: dict[str, list[Any]]
) -> None:
    notes = whole_match["/json"]
    events = _events(notes)
    push, rollback = match.at("cdn_config_push"), match.at("cdn_config_rollback")
    variant = [
        (at, kind)
        for at, kind, t, scope in events
        if (t, scope) == (VARIANT, "cloudflare") and kind != "repeat"
    ]
    assert [kind for _, kind in variant] == ["firing", "resolved"]
    fired, resolved = (datetime.fromisoformat(at.replace("Z", "+00:00")) for at, _ in variant)
    assert push < fired <= push + timedelta(minutes=5 + 3)
    assert rollback + timedelta(minutes=5) < resolved <= rollback + timedelta(minutes=5 + 3 + 1)
    firing = next(
        a
        for n in notes
        for a in n["alerts"]
        if (a["template"], a["scope"], a["event"]) == (VARIANT, "cloudflare", "firing")
    )
    assert _iso(push - timedelta(minutes=1)) <= firing["since"] <= _iso(fired)
    assert firing["request_offload"] < 0.9 <= firing["threshold"]
    assert firing["dashboard_url"].startswith(
        "http://dashboard.test:8501/explore?template=%2Flive%2F%7Bevent%7D"
    )
    assert "&cdn=cloudflare&" in firing["dashboard_url"]
    # The top suggestion names the planted cause (sid in the cache key, on cloudflare).
    planted = next(p for p in match.truth["planted_problems"] if p["template"] == "hls_variant")
    assert (firing["suggestion"]["code"], firing["suggestion"]["cdn"]) == (
        planted["code"],
        "cloudflare",
    )

    # Healthy templates never fire; the variant playlists never on the other CDNs.
    fired_series = {(t, scope) for _, kind, t, scope in events if kind == "firing"}
    assert not {t for t, _ in fired_series} & match.healthy_templates()
    assert {scope for t, scope in fired_series if t == VARIANT} <= {"cloudflare", "all"}

    # Grouping: one notification per window end, the same on every sink.
    ats = [n["at"] for n in notes]
    assert len(ats) == len(set(ats)) and ats == sorted(ats)
    am = whole_match["/am"]
    assert [len(b["alerts"]) for b in am] == [len(n["alerts"]) for n in notes]
    am_variant = [
        (a["status"], a["endsAt"])
        for b in am
        for a in b["alerts"]
        if a["labels"]
        == {
            "alertname": "CdnOffloadBelowThreshold",
            "template": VARIANT,
            "cdn": "cloudflare",
            "severity": a["labels"]["severity"],
        }
    ]
    # A repeat is another "firing" entry: Alertmanager receivers see the same alert again.
    assert list(dict.fromkeys(am_variant)) == [
        ("firing", "0001-01-01T00:00:00Z"),
        ("resolved", _iso(resolved)),
    ]
    assert all(b["version"] == "4" for b in am)


def test_still_firing_alerts_are_renotified_at_the_interval(
    whole_match: dict[str, list[Any]],
) -> None:
    by_series: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for at, kind, t, scope in _events(whole_match["/json"]):
        by_series.setdefault((t, scope), []).append((at, kind))
    # The score API busts its cache all match long: it fires once, then repeats every 10 minutes.
    score = by_series[("/api/v1/match/{id}/score", "all")]
    assert score[0][1] == "firing"
    assert all(kind == "repeat" for _, kind in score[1:]) and len(score) >= 4
    times = [datetime.fromisoformat(at.replace("Z", "+00:00")) for at, _ in score]
    gaps = {b - a for a, b in itertools.pairwise(times)}
    assert gaps == {timedelta(minutes=10)}


def test_restarted_evaluator_sends_no_duplicate(
    match: Match, receiver: Receiver, tmp_path: Path
) -> None:
    alert_settings = _alert_settings(receiver, tmp_path / "state.json", renotify_interval_s=0)
    first = _evaluator(match.data, match.settings, alert_settings)
    middle = match.at("cdn_config_push") + timedelta(minutes=10)
    _drive(first, match.at("stream_start") + STEP, middle)
    first.close()
    before = len(receiver.bodies("/json"))

    second = _evaluator(match.data, match.settings, alert_settings)
    _drive(second, middle + timedelta(minutes=1), match.at("stream_end"))
    second.close()

    notes = receiver.bodies("/json")
    events = _events(notes)
    firings = [(t, scope) for _, kind, t, scope in events if kind == "firing"]
    assert len(firings) == len(set(firings)), "an alert fired twice"
    assert (VARIANT, "cloudflare") in {
        (t, s) for _, k, t, s in _events(notes[:before]) if k == "firing"
    }
    assert (VARIANT, "cloudflare") in {
        (t, s) for _, k, t, s in _events(notes[before:]) if k == "resolved"
    }
    assert {kind for _, kind, _, _ in _events(notes[before:])} <= {
        "firing",
        "resolved",
        "escalated",
    }


@pytest.fixture
def two_templates(tmp_path: Path) -> Location:
    """/a and /b healthy for 10 minutes, both missing half their requests in minutes 10-19."""
    per_minute = [*steady(950, 50, 10), *steady(500, 500, 10), *steady(950, 50, 10)]
    rows = [*series("/a", "cloudfront", per_minute), *series("/b", "cloudfront", per_minute)]
    return resolve(str(write_rollups(tmp_path / "data", rows)))


def test_alerts_of_one_minute_are_grouped_and_resolve_together(
    two_templates: Location, receiver: Receiver, tmp_path: Path
) -> None:
    alert_settings = _alert_settings(
        receiver,
        tmp_path / "s.json",
        min_requests=100,
        webhook_format="slack",
        webhooks=[receiver.url("/slack")],
    )
    evaluator = _evaluator(two_templates, load_settings(), alert_settings)
    evaluator.run_cycle()
    evaluator.close()

    am = receiver.bodies("/am")
    assert [(b["status"], sorted(a["labels"]["template"] for a in b["alerts"])) for b in am] == [
        ("firing", ["/a", "/b"]),
        ("resolved", ["/a", "/b"]),
    ]
    assert am[1]["commonLabels"] == {
        "alertname": "CdnOffloadBelowThreshold",
        "cdn": "all",
        "severity": "P1",
    }
    slack = receiver.bodies("/slack")
    assert len(slack) == 2 and set(slack[0]) == {"text", "blocks"}
    assert "2 firing, 0 resolved" in slack[0]["text"] and "`/a`" in slack[0]["text"]


def test_webhook_is_retried_after_the_receiver_fails_twice(
    two_templates: Location, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.fail_first["/json"] = 2
    alert_settings = _alert_settings(
        receiver,
        tmp_path / "s.json",
        min_requests=100,
        alertmanager_urls=[],
        backoff_initial_s=0.2,
        backoff_max_s=1.0,
    )
    evaluator = _evaluator(two_templates, load_settings(), alert_settings)

    started = time.monotonic()
    evaluator.run_cycle(until=minute(13))  # one notification: /a and /b fire
    returned_after = time.monotonic() - started
    posted_at_return = len(receiver.bodies("/json"))
    evaluator.close()

    bodies = receiver.bodies("/json")
    assert len(bodies) == 3 and bodies[0] == bodies[1] == bodies[2]
    assert posted_at_return < 3 and returned_after < 0.3 + 5  # evaluation did not wait on retries
    [stats] = evaluator.dispatcher.stats().values()
    assert (stats.delivered, stats.retries, stats.failed) == (1, 2, 0)


def test_receiver_that_keeps_failing_is_reported_not_fatal(
    two_templates: Location, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.fail_first["/json"] = 10**6
    alert_settings = _alert_settings(
        receiver,
        tmp_path / "s.json",
        min_requests=100,
        alertmanager_urls=[],
        delivery_attempts=2,
        failing_after=2,
    )
    evaluator = _evaluator(two_templates, load_settings(), alert_settings)

    result = evaluator.run_cycle()
    evaluator.close()

    assert len(result.notifications) == 2  # firing, then resolved: evaluation went on
    [stats] = evaluator.dispatcher.stats().values()
    assert (stats.failed, stats.delivered, stats.failing) == (2, 0, True)
    assert len(receiver.bodies("/json")) == 4


def test_kafka_sink_publishes_one_record_per_alert(
    two_templates: Location, tmp_path: Path, kafka_broker: Any, topic_factory: Any
) -> None:
    from kafka import KafkaConsumer, TopicPartition

    topic = topic_factory(partitions=1, prefix="alerts")
    alert_settings = load_alert_settings(
        min_requests=100, console=False, kafka_topic=topic, state_path=str(tmp_path / "s.json")
    )
    dispatcher = build_dispatcher(
        alert_settings, {"bootstrap_servers": kafka_broker.bootstrap_servers}
    )
    evaluator = AlertEvaluator(
        two_templates, load_settings(), alert_settings, dispatcher, maintain_rollups=False
    )
    evaluator.run_cycle()
    evaluator.close()

    [stats] = dispatcher.stats().values()
    assert (stats.delivered, stats.failed) == (2, 0)
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_broker.bootstrap_servers, consumer_timeout_ms=10_000
    )
    consumer.assign([TopicPartition(topic, 0)])
    consumer.seek_to_beginning()
    records = []
    for record in consumer:
        records.append((record.key.decode(), json.loads(record.value)))
        if len(records) == 4:
            break
    consumer.close()

    assert [(v["alert"]["template"], v["alert"]["status"]) for _, v in records] == [
        ("/a", "firing"),
        ("/b", "firing"),
        ("/a", "resolved"),
        ("/b", "resolved"),
    ]
    assert all(key == v["alert"]["id"] for key, v in records)
    assert records[0][1]["at"] == "2025-03-09T10:13:00Z"


@pytest.fixture
def s3_data(two_templates: Location, monkeypatch: pytest.MonkeyPatch) -> Iterator[Location]:
    """The hand-made rollups copied to a moto S3 server on loopback: s3://alerts/data."""
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    from cdn_offload.local_broker import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="alerts")
    root = Path(two_templates.path)
    for path in root.rglob("*.parquet"):
        client.upload_file(str(path), "alerts", f"data/{path.relative_to(root)}")
    yield resolve("s3://alerts/data")
    server.stop()


def test_state_on_object_storage_survives_a_restart(s3_data: Location, receiver: Receiver) -> None:
    alert_settings = load_alert_settings(
        min_requests=100, console=False, webhooks=[receiver.url("/json")], webhook_format="json"
    )
    first = AlertEvaluator(
        s3_data,
        load_settings(),
        alert_settings,
        build_dispatcher(alert_settings),
        maintain_rollups=False,
    )
    first.run_cycle(until=minute(20))
    first.close()
    second = AlertEvaluator(
        s3_data,
        load_settings(),
        alert_settings,
        build_dispatcher(alert_settings),
        maintain_rollups=False,
    )
    second.run_cycle()
    second.close()

    assert second.state_location.uri == "s3://alerts/data/alerts/state.json"
    assert [(n["at"], n["status"]) for n in receiver.bodies("/json")] == [
        ("2025-03-09T10:13:00Z", "firing"),
        ("2025-03-09T10:27:00Z", "resolved"),
    ]
