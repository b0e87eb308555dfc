"""The main job end to end on a generated match: `cdn-offload demo`.

Kafka mode starts a local Kafka-compatible broker (or uses `--bootstrap-servers`),
creates one topic per CDN, replays a generated multi-CDN match into them at a speed that
plays the match in a few minutes, runs a consumer group landing Parquet, keeps rollups
current and evaluates alerts (printed to the console), and serves the dashboard. Files
mode does the same from the generated log files without Kafka. Every stage runs as the
same `cdn-offload` subcommand an operator would run, in its own process; Ctrl-C stops
them all cleanly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

TOPIC_PREFIX = "cdn-logs-"
GROUP = "cdn-offload-demo"


@dataclass
class DemoOptions:
    data: Path
    rows: int = 400_000
    minutes: float = 4.0
    seed: int = 42
    cdns: tuple[str, ...] = ("cloudfront", "fastly", "akamai", "cloudflare")
    bootstrap_servers: str | None = None
    files: bool = False
    port: int = 8501
    dashboard: bool = True
    consumers: int = 2
    partitions: int = 3
    exit_after_s: float | None = None
    refresh_s: int = 10
    config: str | None = None
    metrics_port: int = 9400


@dataclass
class Stage:
    name: str
    proc: subprocess.Popen[bytes]


@dataclass
class Demo:
    """A running demo: its child processes, stopped in reverse order."""

    options: DemoOptions
    stages: list[Stage] = field(default_factory=list)

    @property
    def match_dir(self) -> Path:
        return self.options.data / "match"

    @property
    def lake(self) -> Path:
        return self.options.data / "lake"

    def spawn(self, name: str, *args: str, quiet: bool = False) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "cdn_offload", *args]
        log_file = (self.options.data / "logs" / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            cmd,
            stdout=log_file if quiet else None,
            stderr=log_file,
            start_new_session=True,
        )
        self.stages.append(Stage(name, proc))
        log.info("Started %s (pid %d).", name, proc.pid)
        return proc

    def stop(self) -> None:
        # Each stage leads its own process group (start_new_session): signal the group,
        # so what a stage started itself (the dashboard's Streamlit server) stops too.
        for stage in reversed(self.stages):
            if stage.proc.poll() is None:
                _signal_group(stage.proc, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for stage in reversed(self.stages):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                stage.proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it.", stage.name)
                _signal_group(stage.proc, signal.SIGKILL)
                stage.proc.wait()
            _signal_group(stage.proc, signal.SIGTERM)  # children left behind by the leader


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group has exited
        os.killpg(proc.pid, signum)


def _generate(opts: DemoOptions, out: Path) -> dict[str, object]:
    from cdn_offload.generator import GeneratorConfig, generate

    summary = generate(
        GeneratorConfig(rows=opts.rows, seed=opts.seed, cdns=opts.cdns), str(out), replace=True
    )
    doc: dict[str, object] = json.loads((out / "match.json").read_text())
    log.info("Generated %d requests over %d CDNs in %s.", opts.rows, len(opts.cdns), out)
    del summary
    return doc


def _match_seconds(doc: dict[str, object]) -> float:
    params = doc.get("parameters", {})
    minutes = params.get("duration_min", 240) if isinstance(params, dict) else 240
    return float(minutes) * 60


def _wait_http(url: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback URL we built
                if resp.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def _kafka_stages(
    demo: Demo, stack: ExitStack, doc: dict[str, object]
) -> list[subprocess.Popen[bytes]]:
    """Broker (local unless given), topics, consumer group and one replay per CDN."""
    from ingest.kafka_admin import ensure_topics
    from ingest.kafka_config import load_kafka_settings

    opts = demo.options
    topics = {f"{TOPIC_PREFIX}{cdn}": opts.partitions for cdn in opts.cdns}
    servers = opts.bootstrap_servers
    if servers is None:
        from cdn_offload.local_broker import LocalBroker

        servers = stack.enter_context(LocalBroker()).bootstrap_servers
        # Tansu holds a group join for half the session timeout: keep it short locally.
        os.environ.setdefault("CDN_OFFLOAD_KAFKA_SESSION_TIMEOUT_MS", "6000")
    settings = load_kafka_settings(opts.config, bootstrap_servers=servers)
    ensure_topics(settings.connection_config(), topics)
    log.info("Kafka at %s with topics %s.", servers, ", ".join(topics))
    config = ("--config", opts.config) if opts.config else ()
    topic_args = [a for t in topics for a in ("--topic", t)]
    for i in range(opts.consumers):
        demo.spawn(
            f"consumer-{i}",
            "ingest",
            "kafka",
            "--bootstrap-servers",
            servers,
            *topic_args,
            "--group",
            GROUP,
            "--out",
            str(demo.lake),
            "--metrics-port",
            str(opts.metrics_port + i),
            *config,
        )
    speed = _match_seconds(doc) / max(opts.minutes * 60, 1)
    replays = [
        demo.spawn(
            f"replay-{cdn}",
            "replay",
            str(demo.match_dir / cdn),
            "--bootstrap-servers",
            servers,
            "--topic",
            f"{TOPIC_PREFIX}{cdn}",
            "--speed",
            f"{speed:.1f}",
            "--lines-per-message",
            "100",
            "--json",
            *config,
            quiet=True,
        )
        for cdn in opts.cdns
    ]
    log.info("Replaying the match at %.0fx real time: about %.1f minutes.", speed, opts.minutes)
    return replays


def run_demo(opts: DemoOptions) -> int:
    """Run the demo until Ctrl-C (or `exit_after_s`); returns the exit status."""
    opts.data.mkdir(parents=True, exist_ok=True)
    for sub in ("lake", "logs"):
        shutil.rmtree(opts.data / sub, ignore_errors=True)
        (opts.data / sub).mkdir()
    demo = Demo(opts)
    doc = _generate(opts, demo.match_dir)
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    began = time.monotonic()
    with ExitStack() as stack:
        try:
            if opts.files:
                from ingest.config import IngestSettings
                from ingest.file_source import ingest_files

                summary = ingest_files(
                    [str(demo.match_dir / cdn) for cdn in opts.cdns],
                    IngestSettings(out=str(demo.lake)),
                )
                log.info("Ingested %d rows from files.", summary.rows_written)
                replays: list[subprocess.Popen[bytes]] = []
            else:
                replays = _kafka_stages(demo, stack, doc)
            demo.spawn(
                "alerts",
                "alerts",
                "watch",
                "--data",
                str(demo.lake),
                "--interval-s",
                "10",
                *(("--dashboard-url", f"http://localhost:{opts.port}") if opts.dashboard else ()),
            )
            # The data-quality suite runs periodically on the live path, never in ingest.
            demo.spawn(
                "validate", "validate", "--data", str(demo.lake), "--every-s", "60", quiet=True
            )
            if opts.dashboard:
                demo.spawn(
                    "dashboard",
                    "dashboard",
                    "--data",
                    str(demo.lake),
                    "--port",
                    str(opts.port),
                    "--refresh-s",
                    str(opts.refresh_s),
                    quiet=True,
                )
                if _wait_http(f"http://localhost:{opts.port}/_stcore/health", 60):
                    print(f"\nDashboard: http://localhost:{opts.port}\n", flush=True)
                else:
                    log.error(
                        "The dashboard did not come up; see %s.",
                        opts.data / "logs" / "dashboard.log",
                    )
            announced = False
            while not stopping:
                if opts.exit_after_s is not None and time.monotonic() - began > opts.exit_after_s:
                    break
                if replays and not announced and all(p.poll() is not None for p in replays):
                    announced = True
                    print(
                        "Match replayed. Ctrl-C stops the demo; the dashboard stays up until then.",
                        flush=True,
                    )
                time.sleep(0.5)
        finally:
            demo.stop()
    return 0


def main_env_data() -> Path:
    return Path(os.environ.get("CDN_OFFLOAD_DEMO_DATA", "demo-data"))
