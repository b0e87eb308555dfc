"""Argument types and groups that several subcommands share."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime


def timestamp(text: str) -> datetime:
    """ISO 8601 date or date-time, as UTC (a time without an offset is taken as UTC)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2025-03-09T08:30Z)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def add_window(
    parser: argparse.ArgumentParser,
    start_help: str = "window start, inclusive (rounded down to the minute; UTC unless an "
    "offset is given)",
    end_help: str = "window end, exclusive (rounded up to the minute)",
) -> None:
    """`--from` and `--to` (as `window_from` / `window_to`), parsed by `timestamp`."""
    parser.add_argument(
        "--from", dest="window_from", type=timestamp, metavar="ISO", help=start_help
    )
    parser.add_argument("--to", dest="window_to", type=timestamp, metavar="ISO", help=end_help)
