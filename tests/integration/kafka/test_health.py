"""/healthz, /readyz and /metrics of a running consumer answer as specified."""

from __future__ import annotations

import json

import pytest

from ingest.health import HealthServer, Metrics
from ingest.kafka_source import KafkaSource
from tests.integration.kafka.support import SAMPLES, Background, samples, scrape, wait_for

pytestmark = pytest.mark.integration

LINES = [
    line
    for line in (SAMPLES / "cloudfront" / "live_match.log").read_bytes().splitlines()
    if not line.startswith(b"#")
]
M = "cdn_offload_kafka_"


def _ready(port: int) -> tuple[int, dict]:
    code, body = scrape(port, "/readyz")
    return code, json.loads(body)


def test_health_endpoints_follow_assignment_lag_and_writes(
    topic_factory, producer, kafka_settings_factory, ingest_settings_factory
):
    topic = topic_factory(partitions=1)
    # Nothing is flushed by size or age during the test, so unwritten messages stay as lag.
    kafka = kafka_settings_factory(
        {topic: "cloudfront_standard"}, ready_max_lag_records=5, flush_interval_s=3600
    )
    metrics = Metrics(max_lag_records=kafka.ready_max_lag_records)
    server = HealthServer(metrics, port=0).start()
    source = KafkaSource(ingest_settings_factory(), kafka, metrics=metrics)
    try:
        code, body = scrape(server.port, "/healthz")
        assert code == 200 and json.loads(body)["status"] == "ok"
        code, ready = _ready(server.port)
        assert code == 503 and ready["checks"]["assignment_received"] is False
        assert scrape(server.port, "/nope")[0] == 404

        run = Background(lambda: source.run())
        wait_for(lambda: _ready(server.port)[0] == 200, 30, 0.1)
        for line in LINES[:3]:
            producer.send(topic, line)
        producer.flush()
        lag_key = f'{{partition="0",topic="{topic}"}}'
        wait_for(lambda: samples(scrape(server.port)[1], M + "lag_records").get(lag_key) == 3, 15)
        code, ready = _ready(server.port)
        assert code == 200 and ready["checks"]["lag_records"] == 3

        for line in LINES[3:13]:
            producer.send(topic, line)
        producer.flush()
        wait_for(lambda: _ready(server.port)[0] == 503, 15, 0.1)
        checks = _ready(server.port)[1]["checks"]
        assert checks["lag_under_threshold"] is False and checks["assignment_received"] is True
        assert checks["broker_reachable"] is True

        source.stop()  # graceful stop writes and commits the buffered batch
        summary = run.join(30)
        assert summary.rows_written == 13
        text = scrape(server.port)[1]
        assert samples(text, M + "records_consumed_total") == {f'{{topic="{topic}"}}': 13.0}
        assert samples(text, M + "rows_written_total") == {f'{{topic="{topic}"}}': 13.0}
        assert samples(text, M + "files_written_total") == {"": 1.0}
        assert samples(text, M + "flush_duration_seconds_count") == {"": 1.0}
        assert samples(text, M + "commits_total")[""] >= 1
        assert "# TYPE cdn_offload_kafka_flush_duration_seconds histogram" in text
    finally:
        source.stop()
        server.stop()
