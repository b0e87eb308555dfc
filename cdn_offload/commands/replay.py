"""`cdn-offload replay`: publish log files to Kafka at X times real speed or as fast as possible."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "replay",
        help="publish log files to a Kafka topic, keeping their traffic shape in time",
        description="Read log files (plain, gzip or zstd; directories expanded), order their "
        "lines by event time, and publish them to TOPIC at SPEED times real time (--speed) or "
        "as fast as possible (--max). Lines are grouped N to a message, newline-delimited, "
        "optionally gzip-compressed, as log shippers send them.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="log files or directories")
    parser.add_argument(
        "--bootstrap-servers", metavar="HOST:PORT[,HOST:PORT]", help="Kafka bootstrap servers"
    )
    parser.add_argument("--topic", required=True, metavar="TOPIC", help="topic to publish to")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument(
        "--speed", type=float, default=1.0, metavar="X", help="X times real time (default 1)"
    )
    pace.add_argument("--max", action="store_true", help="as fast as possible, no pacing")
    parser.add_argument(
        "--lines-per-message",
        type=int,
        default=1,
        metavar="N",
        help="lines per message (default 1)",
    )
    parser.add_argument("--gzip", action="store_true", help="gzip-compress each message")
    parser.add_argument(
        "--format",
        default="auto",
        metavar="NAME",
        help="format used to read event times (default auto)",
    )
    parser.add_argument(
        "--config", metavar="FILE", help="TOML settings file ([kafka] table: security settings)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON summary at the end")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ingest.errors import ConfigError, FramingError
    from ingest.kafka_config import load_kafka_settings
    from ingest.replay import load_lines, producer_for, replay

    err = Console(stderr=True)
    if not getattr(args, "verbose", False):
        # kafka-python narrates every connection at INFO; keep its warnings and errors.
        logging.getLogger("kafka").setLevel(logging.WARNING)
    if args.lines_per_message < 1 or (not args.max and args.speed <= 0):
        err.print("[red]error:[/red] --lines-per-message and --speed must be positive")
        return 2
    try:
        settings = load_kafka_settings(args.config, bootstrap_servers=args.bootstrap_servers)
        lines = load_lines(args.paths, args.format)
    except ConfigError as exc:
        err.print(f"[red]configuration error[/red]\n{exc}")
        return 2
    except (FileNotFoundError, FramingError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    producer = producer_for(settings)
    try:
        stats = replay(
            lines,
            producer,
            args.topic,
            speed=None if args.max else args.speed,
            lines_per_message=args.lines_per_message,
            compress=args.gzip,
            stop=stop,
        )
    finally:
        producer.close()
    if args.json:
        sys.stdout.write(json.dumps(stats.as_json()) + "\n")
    else:
        err.print(
            f"sent {stats.lines} lines in {stats.messages} messages ({stats.bytes} bytes) "
            f"to {args.topic} in {stats.seconds:.1f} s"
        )
    return 130 if stop.is_set() else 0
