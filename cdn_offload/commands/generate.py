"""`cdn-offload generate`: a synthetic multi-CDN live-cricket match in the vendors' formats."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

_DEFAULT_CDNS = "cloudfront,fastly,akamai,cloudflare"
# Kept in step with cdn_offload.generator.config (not imported here: --help stays fast).
SUPPORTED_CDNS = ("cloudfront", "fastly", "akamai", "cloudflare", "gcp", "azure")


def _positive_int(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "generate",
        help="write a synthetic multi-CDN live match in the vendors' log formats",
        description="Generate a live-cricket match served by several CDNs: hourly gzip files per "
        "CDN in each vendor's own log format (DIR/<cdn>/...), with a traffic curve (toss, wickets, "
        "innings break, final-overs surge) and planted cache-policy problems next to healthy "
        "look-alikes. DIR/match.json holds the timeline, the parameters and the ground truth. "
        "The same seed gives the same bytes.",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument(
        "--rows", required=True, type=_positive_int, metavar="N", help="requests to generate"
    )
    parser.add_argument(
        "--seed", type=int, default=42, metavar="S", help="random seed (default 42)"
    )
    parser.add_argument(
        "--cdns",
        default=_DEFAULT_CDNS,
        metavar="LIST",
        help=f"comma-separated CDNs among {', '.join(SUPPORTED_CDNS)} (default {_DEFAULT_CDNS})",
    )
    parser.add_argument(
        "--start",
        default=None,
        metavar="ISO",
        help="stream start, ISO 8601 UTC (default 2025-03-09T08:30:00Z)",
    )
    parser.add_argument(
        "--duration-min",
        type=float,
        default=240.0,
        metavar="M",
        help="broadcast length in minutes; the whole timeline scales with it (default 240)",
    )
    parser.add_argument(
        "--chunk-rows",
        type=_positive_int,
        default=1_000_000,
        metavar="N",
        help="rows generated at a time; bounds memory (default 1000000)",
    )
    parser.add_argument(
        "--compresslevel",
        type=int,
        default=1,
        choices=range(10),
        metavar="0-9",
        help="gzip level (default 1: fastest)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace a match generated earlier in DIR"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON summary at the end")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from rich.console import Console

    from cdn_offload.generator import GeneratorConfig, generate
    from cdn_offload.generator.config import DEFAULT_START

    err = Console(stderr=True)
    try:
        config = GeneratorConfig(
            rows=args.rows,
            seed=args.seed,
            cdns=tuple(c.strip().lower() for c in args.cdns.split(",") if c.strip()),
            start=args.start or DEFAULT_START,
            duration_min=args.duration_min,
            chunk_rows=max(1, args.chunk_rows),
            compresslevel=args.compresslevel,
        )
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2
    began = time.monotonic()
    try:
        with _row_progress(config.rows, quiet=args.json) as advance:
            summary = generate(config, args.out, progress=advance, replace=args.force)
    except FileExistsError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2
    seconds = time.monotonic() - began
    by_cdn = {
        cdn: {
            "rows": sum(f.rows for f in summary.files if f.cdn == cdn),
            "files": sum(1 for f in summary.files if f.cdn == cdn),
            "bytes": sum(f.bytes for f in summary.files if f.cdn == cdn),
        }
        for cdn in config.cdns
    }
    report = {
        "rows": summary.rows,
        "files": len(summary.files),
        "bytes": sum(f.bytes for f in summary.files),
        "seconds": round(seconds, 3),
        "rows_per_s": round(summary.rows / seconds) if seconds > 0 else None,
        "by_cdn": by_cdn,
        "match_json": str(summary.match_json),
    }
    if args.json:
        print(json.dumps(report))
    else:
        mb = sum(f.bytes for f in summary.files) / 1e6
        print(
            f"wrote {summary.rows:,} requests in {len(summary.files)} files ({mb:,.1f} MB gzip) "
            f"to {args.out} in {seconds:,.1f} s ({report['rows_per_s'] or 0:,} rows/s); "
            f"ground truth in {summary.match_json}",
            file=sys.stdout,
        )
    return 0


def _row_progress(
    total: int, *, quiet: bool
) -> AbstractContextManager[Callable[[int], None] | None]:
    """A context yielding an `advance(rows)` callback that draws a bar on a TTY, else None."""
    if quiet or not sys.stderr.isatty():
        return nullcontext(None)
    return _bar(total)


@contextmanager
def _bar(total: int) -> Iterator[Callable[[int], None]]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("generating", total=total)
        yield lambda n: progress.advance(task, n)
