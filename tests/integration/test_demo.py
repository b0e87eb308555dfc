"""`cdn-offload demo` end to end: broker, replay, consumer group, rollups, alerts, dashboard."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from cdn_offload.local_broker import free_port
from tests.integration.kafka.support import REPO

pytestmark = pytest.mark.integration

ROWS = 20_000


def _run_demo(tmp_path, *extra: str) -> tuple[subprocess.CompletedProcess[str], int]:
    port = free_port()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cdn_offload",
            "demo",
            "--data",
            str(tmp_path / "demo"),
            "--rows",
            str(ROWS),
            "--cdns",
            "cloudfront,cloudflare",
            "--port",
            str(port),
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    return proc, port


def _still_serving(port: int, timeout_s: float = 10.0) -> list[str]:
    """Command lines of processes still serving the dashboard port after the demo ended."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "streamlit" in text and f"--server.port {port} " in text:
                left.append(text)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def _lake_rows(tmp_path) -> int:
    return ds.dataset(
        tmp_path / "demo" / "lake" / "raw", format="parquet", partitioning="hive"
    ).count_rows()


def test_demo_over_kafka_lands_every_row_and_serves_the_dashboard(tmp_path):
    proc, port = _run_demo(
        tmp_path, "--minutes", "0.3", "--exit-after-s", "90", "--metrics-port", str(free_port())
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"Dashboard: http://localhost:{port}" in proc.stdout
    assert _still_serving(port) == []  # stopping the demo stops the Streamlit server too
    assert "Match replayed" in proc.stdout
    assert _lake_rows(tmp_path) == ROWS
    logs = tmp_path / "demo" / "logs"
    assert {p.name for p in logs.iterdir()} >= {
        "consumer-0.log",
        "consumer-1.log",
        "alerts.log",
        "dashboard.log",
        "validate.log",
    }
    # Rollups are kept current by the alert evaluator.
    assert (tmp_path / "demo" / "lake" / "rollups").exists()
    # The data-quality suite ran on the live path and stored its result.
    assert (tmp_path / "demo" / "lake" / "quality" / "latest.json").exists()


def test_demo_from_files_without_kafka(tmp_path):
    proc, port = _run_demo(tmp_path, "--files", "--exit-after-s", "20")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"Dashboard: http://localhost:{port}" in proc.stdout
    assert _still_serving(port) == []
    assert _lake_rows(tmp_path) == ROWS
