"""Health endpoints and the Prometheus rendering, without a broker."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from ingest.health import HealthServer, Metrics

pytestmark = pytest.mark.unit


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.parametrize(
    ("state", "ready"),
    [
        pytest.param(
            {"assigned": True, "broker_reachable": True, "lag": {("t", 0): 5}}, True, id="ready"
        ),
        pytest.param({"assigned": False, "broker_reachable": True}, False, id="no-assignment"),
        pytest.param({"assigned": True, "broker_reachable": False}, False, id="no-broker"),
        pytest.param(
            {"assigned": True, "broker_reachable": True, "lag": {("t", 0): 6, ("t", 1): 5}},
            False,
            id="lagging",
        ),
    ],
)
def test_readiness(state, ready):
    metrics = Metrics(max_lag_records=10)
    metrics.set_state(**state)
    assert metrics.readiness()[0] is ready


def test_liveness_fails_when_the_loop_stalls():
    metrics = Metrics(stall_after_s=0.0)
    assert metrics.alive()[0] is False
    metrics = Metrics(stall_after_s=60)
    metrics.loop_tick()
    assert metrics.alive()[0] is True


def test_render_is_prometheus_text():
    m = Metrics()
    m.record_consumed("cf", 10)
    m.record_batch("cf", rows=8, rejects={"bad_timestamp": 2}, files=3, seconds=0.2)
    m.record_commit(True)
    m.set_state(lag={("cf", 1): 4}, assigned_partitions=1, assigned=True, broker_reachable=True)
    text = m.render()
    for line in (
        'cdn_offload_kafka_records_consumed_total{topic="cf"} 10',
        'cdn_offload_kafka_rows_written_total{topic="cf"} 8',
        'cdn_offload_kafka_rows_quarantined_total{reason="bad_timestamp",topic="cf"} 2',
        "cdn_offload_kafka_files_written_total 3",
        'cdn_offload_kafka_flush_duration_seconds_bucket{le="0.25"} 1',
        'cdn_offload_kafka_flush_duration_seconds_bucket{le="0.1"} 0',
        'cdn_offload_kafka_flush_duration_seconds_bucket{le="+Inf"} 1',
        "cdn_offload_kafka_flush_duration_seconds_count 1",
        'cdn_offload_kafka_lag_records{partition="1",topic="cf"} 4',
        "cdn_offload_kafka_assigned_partitions 1",
        "cdn_offload_kafka_ready 1",
        "# TYPE cdn_offload_kafka_commits_total counter",
    ):
        assert line in text.splitlines(), line


def test_endpoints():
    metrics = Metrics()
    server = HealthServer(metrics, port=0).start()
    try:
        code, body = _get(server.port, "/healthz")
        assert code == 200 and json.loads(body)["status"] == "ok"
        code, body = _get(server.port, "/readyz")
        assert code == 503 and json.loads(body)["checks"]["assignment_received"] is False
        metrics.set_state(assigned=True, broker_reachable=True)
        assert _get(server.port, "/readyz")[0] == 200
        code, body = _get(server.port, "/metrics")
        assert code == 200 and "cdn_offload_kafka_ready 1" in body
        assert _get(server.port, "/other")[0] == 404
    finally:
        server.stop()
