"""`cdn-offload demo`: the whole pipeline on a generated live match, in a few minutes."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo",
        help="run the whole pipeline on a generated match (broker, replay, ingest, alerts, dashboard)",
        description="Generate a multi-CDN live match, replay it into Kafka (a local broker "
        "unless --bootstrap-servers is given) at a speed that plays the match in a few "
        "minutes, land it with a consumer group, keep rollups current, print alerts and "
        "serve the dashboard. --files does the same from the generated files, without Kafka. "
        "Ctrl-C stops everything.",
    )
    parser.add_argument(
        "--data", default="demo-data", metavar="DIR", help="working directory (default demo-data)"
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=400_000,
        metavar="N",
        help="requests in the match (default 400000)",
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=4.0,
        metavar="M",
        help="replay the match in about M minutes (default 4)",
    )
    parser.add_argument("--seed", type=int, default=42, metavar="S", help="generator seed")
    parser.add_argument(
        "--cdns",
        default="cloudfront,fastly,akamai,cloudflare",
        metavar="LIST",
        help="CDNs serving the match (default cloudfront,fastly,akamai,cloudflare)",
    )
    parser.add_argument(
        "--bootstrap-servers",
        metavar="HOST:PORT",
        help="use this Kafka cluster instead of a local broker",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="TOML settings ([kafka] security settings for a real cluster)",
    )
    parser.add_argument(
        "--files", action="store_true", help="no Kafka: ingest the generated files directly"
    )
    parser.add_argument(
        "--consumers",
        type=int,
        default=2,
        metavar="N",
        help="consumer processes in the group (default 2)",
    )
    parser.add_argument(
        "--partitions", type=int, default=3, metavar="N", help="partitions per topic (default 3)"
    )
    parser.add_argument(
        "--port", type=int, default=8501, metavar="P", help="dashboard port (default 8501)"
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=9400,
        metavar="P",
        help="health/metrics port of the first consumer; the others follow (default 9400)",
    )
    parser.add_argument("--no-dashboard", action="store_true", help="do not start the dashboard")
    parser.add_argument(
        "--exit-after-s", type=float, metavar="S", help="stop by itself after S seconds (CI, tests)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cdn_offload.demo import DemoOptions, run_demo

    opts = DemoOptions(
        data=Path(args.data).resolve(),
        rows=args.rows,
        minutes=args.minutes,
        seed=args.seed,
        cdns=tuple(c.strip() for c in args.cdns.split(",") if c.strip()),
        bootstrap_servers=args.bootstrap_servers,
        config=args.config,
        files=args.files,
        consumers=args.consumers,
        partitions=args.partitions,
        port=args.port,
        dashboard=not args.no_dashboard,
        exit_after_s=args.exit_after_s,
        metrics_port=args.metrics_port,
    )
    return run_demo(opts)
