"""`cdn-offload` console command: one subcommand per module in `cdn_offload.commands`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from cdn_offload import __version__

# Each module exposes `register(subparsers)`, which adds its parser and sets
# `func=run`. Heavy imports live inside each `run`, so `--help` stays fast.
COMMAND_MODULES = (
    "ingest",
    "formats",
    "generate",
    "replay",
    "broker",
    "analyze",
    "capacity",
    "alerts",
    "report",
    "validate",
    "dashboard",
    "demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdn-offload",
        description="CDN cache-offload analytics: ingest edge logs, find paths under the offload "
        "target, suggest cache-policy fixes, alert, and show it all on a dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"cdn-offload {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"cdn_offload.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        # kafka-python logs every connection at INFO; operators need its warnings only.
        logging.getLogger("kafka").setLevel(logging.WARNING)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
