"""`cdn-offload ingest kafka`: a consumer-group member landing topics as canonical Parquet."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from typing import Any


def register(kinds: argparse._SubParsersAction) -> None:
    parser = kinds.add_parser(
        "kafka",
        help="consume CDN log topics from Kafka into Parquet",
        description="Join consumer group GROUP, consume the topics and write canonical Parquet. "
        "Offsets are committed only after the files holding their rows are durable, and a "
        "restart rewrites the same files: no row is lost or duplicated. SIGTERM or Ctrl-C "
        "flushes, commits and leaves the group. Security (SSL, SASL) and tuning settings "
        "come from --config ([kafka] table) or CDN_OFFLOAD_KAFKA_* variables.",
    )
    parser.add_argument(
        "--bootstrap-servers", metavar="HOST:PORT[,HOST:PORT]", help="Kafka bootstrap servers"
    )
    parser.add_argument(
        "--topic",
        dest="topics",
        action="append",
        metavar="TOPIC[=FORMAT]",
        help="topic to consume, optionally with its format (repeatable)",
    )
    parser.add_argument("--group", dest="group_id", metavar="GROUP", help="consumer group id")
    parser.add_argument(
        "--out", metavar="DATA_DIR", help="data directory or s3://bucket/prefix (required)"
    )
    parser.add_argument(
        "--format",
        metavar="NAME",
        help="format of topics given without =FORMAT: a name or 'auto' (default auto)",
    )
    parser.add_argument(
        "--config", metavar="FILE", help="TOML settings file ([ingest] and [kafka] tables)"
    )
    parser.add_argument(
        "--client-ip",
        dest="client_ip_mode",
        choices=["truncate", "hash", "raw"],
        help="how client IPs are stored (default truncate: /24 and /48)",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve /healthz, /readyz and /metrics on this port (0 picks a free one)",
    )
    parser.add_argument("--metrics-host", metavar="HOST", help="address to serve them on")
    parser.add_argument("--max-batches", type=int, metavar="N", help="stop after writing N batches")
    parser.add_argument(
        "--idle-timeout-s",
        type=float,
        metavar="S",
        help="stop after S seconds without a message",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON summary object at the end"
    )
    parser.set_defaults(func=run)


def _topics(args: argparse.Namespace) -> dict[str, str] | None:
    if not args.topics:
        return None
    default = args.format or "auto"
    pairs = [t.split("=", 1) for t in args.topics]
    return {p[0]: (p[1] if len(p) > 1 else default) for p in pairs}


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ingest.config import load_settings
    from ingest.errors import ConfigError, SinkError
    from ingest.health import HealthServer, Metrics
    from ingest.kafka_config import load_kafka_settings
    from ingest.kafka_source import KafkaSource

    err = Console(stderr=True)
    if not getattr(args, "verbose", False):
        # kafka-python narrates every connection at INFO; keep its warnings and errors.
        logging.getLogger("kafka").setLevel(logging.WARNING)
    try:
        ingest = load_settings(
            args.config, out=args.out, format=args.format, client_ip_mode=args.client_ip_mode
        )
        kafka = load_kafka_settings(
            args.config,
            bootstrap_servers=args.bootstrap_servers,
            topics=_topics(args),
            group_id=args.group_id,
            metrics_port=args.metrics_port,
            metrics_host=args.metrics_host,
        )
        if not (args.out or args.config or os.environ.get("CDN_OFFLOAD_INGEST_OUT")):
            raise ConfigError("--out", "the data directory is required")
        if not kafka.topics:
            raise ConfigError("--topic", "at least one topic is required")
        metrics = Metrics(max_lag_records=kafka.ready_max_lag_records)
        source = KafkaSource(ingest, kafka, metrics=metrics)
    except ConfigError as exc:
        err.print(f"[red]configuration error[/red]\n{exc}")
        return 2
    server = None
    if kafka.metrics_port is not None:
        server = HealthServer(metrics, kafka.metrics_host, kafka.metrics_port).start()
        err.print(f"health endpoints on http://{server.host}:{server.port}/")
    previous = _on_signals(source.stop)
    try:
        summary = source.run(max_batches=args.max_batches, idle_timeout_s=args.idle_timeout_s)
    except ConfigError as exc:
        err.print(f"[red]configuration error[/red]\n{exc}")
        return 2
    except SinkError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 1
    finally:
        _restore(previous)
        if server is not None:
            server.stop()
    result = summary.as_json()
    result["batches_written"] = source.batches_written
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        err.print(
            f"{source.batches_written} batches, {summary.lines_read} lines: "
            f"{summary.rows_written} rows written, {summary.rows_quarantined} quarantined"
        )
        for reason, n in sorted(summary.by_reason.items()):
            err.print(f"  quarantined {reason}: {n}")
    return 0


def _on_signals(stop: Any) -> dict[int, Any]:
    """First SIGTERM/SIGINT stops gracefully; a second one interrupts at once."""
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: object) -> None:
        stop()
        signal.signal(signum, previous.get(signum, signal.SIG_DFL))

    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, handler)
    return previous


def _restore(previous: dict[int, Any]) -> None:
    for sig, old in previous.items():
        signal.signal(sig, old)
