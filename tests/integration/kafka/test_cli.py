"""The three commands end to end: `broker`, `replay` into it, `ingest kafka` out of it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from kafka import KafkaAdminClient

from tests.integration.kafka.support import REPO, SAMPLES, fast_group_env, read_table

pytestmark = pytest.mark.integration

SAMPLE = str(SAMPLES / "cloudfront" / "live_match.log")


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdn_offload", *args],
        cwd=REPO,
        env=fast_group_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_broker_replay_and_ingest_commands(tmp_path):
    broker = subprocess.Popen(
        [sys.executable, "-m", "cdn_offload", "broker", "--topic", "cf:2"],
        cwd=REPO,
        env=fast_group_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert broker.stdout is not None
        bootstrap = broker.stdout.readline().strip()
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        assert len(admin.describe_topics(["cf"])[0]["partitions"]) == 2
        admin.close()

        sent = _cli(
            "replay",
            SAMPLE,
            "--bootstrap-servers",
            bootstrap,
            "--topic",
            "cf",
            "--max",
            "--lines-per-message",
            "4",
            "--gzip",
            "--json",
        )
        assert sent.returncode == 0, sent.stderr
        stats = json.loads(sent.stdout)
        assert stats["lines"] == 26 and stats["messages"] == 7

        out = str(tmp_path / "data")
        ingested = _cli(
            "ingest",
            "kafka",
            "--bootstrap-servers",
            bootstrap,
            "--topic",
            "cf=cloudfront_standard",
            "--group",
            "cli",
            "--out",
            out,
            "--idle-timeout-s",
            "2",
            "--json",
        )
        assert ingested.returncode == 0, ingested.stderr
        summary = json.loads(ingested.stdout)
        assert summary["rows_written"] == 24 == read_table(out).num_rows
        assert summary["lines_skipped"] == 2  # the W3C header lines

        # --max-batches stops early (after writing what it holds); the group keeps the rest.
        partial = _cli(
            "ingest",
            "kafka",
            "--bootstrap-servers",
            bootstrap,
            "--topic",
            "cf=cloudfront_standard",
            "--group",
            "cli-2",
            "--out",
            str(tmp_path / "p"),
            "--max-batches",
            "1",
            "--json",
        )
        assert partial.returncode == 0, partial.stderr
        assert json.loads(partial.stdout)["batches_written"] >= 1

        broker.send_signal(signal.SIGTERM)
        assert broker.wait(timeout=20) == 0
    finally:
        broker.kill()
        stderr = broker.communicate()[1]
    assert "broker stopped" in stderr
