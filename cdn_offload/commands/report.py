"""`cdn-offload report`: the post-match report as one HTML page plus JSON and CSV twins."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cdn_offload.commands.arguments import add_window


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text.replace("_", ""))
        except ValueError:
            value = 0
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
        return value

    return parse


def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 1.0:
        raise argparse.ArgumentTypeError(f"must be a number above 1, got {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="post-match report: self-contained HTML plus JSON and CSV twins",
        description="Write a self-contained HTML report for a time window (headline offload, "
        "timeline with traffic spikes, per-CDN comparison, flagged templates with evidence and "
        "suggestions, static-snapshot candidates, capacity projection, alerts, data quality), "
        "and optionally its JSON and per-section CSV twins. Exit status 0 when written (also "
        "for an empty window, which the report states), 1 when the data directory holds no "
        "data (the report is still written), 2 on bad arguments.",
    )
    p.add_argument(
        "--data", required=True, metavar="DATA_DIR", help="local path or s3://bucket/prefix"
    )
    add_window(p)
    p.add_argument("--out", required=True, metavar="FILE", help="HTML file to write")
    p.add_argument("--json", dest="json_out", metavar="FILE", help="also write the report as JSON")
    p.add_argument("--csv", dest="csv_dir", metavar="DIR", help="also write one CSV per section")
    p.add_argument(
        "--peak-concurrency",
        type=_positive(int),
        metavar="N",
        help="concurrent viewers expected at the next match's peak (capacity projection)",
    )
    p.add_argument(
        "--events",
        metavar="FILE",
        help="JSON of named events (toss, wickets) to mark on the timeline; the generator's "
        "match.json works as it is",
    )
    p.add_argument(
        "--spike-ratio",
        type=_ratio,
        default=None,
        metavar="R",
        help="a minute is a spike at R times the median of the minutes around it (default 1.2)",
    )
    p.add_argument("--threshold", type=float, help="request offload target (default 0.9)")
    p.add_argument(
        "--min-requests", type=int, help="GET/HEAD requests a template needs to be flagged"
    )
    p.add_argument(
        "--source",
        choices=["auto", "raw", "rollups"],
        default="auto",
        help="read stored rollups or raw files (auto: rollups when up to date)",
    )
    p.add_argument(
        "--update-rollups",
        action="store_true",
        help="first bring stored rollups up to date (the alert replay reads them)",
    )
    p.add_argument(
        "--config", metavar="FILE", help="TOML file with [transforms] and [alerts] tables"
    )
    p.set_defaults(func=run)


@contextmanager
def _progress() -> Iterator[Any]:
    """A step bar on a terminal (stderr); None in pipes and CI."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("report: {task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("starting", total=None)
        yield lambda done, total, label: bar.update(
            task, completed=done, total=total, description=label
        )


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ingest.storage import resolve
    from transforms import offload, rollups
    from transforms import report_timeline as tl
    from transforms.alert_config import load_alert_settings
    from transforms.config import load_settings
    from transforms.errors import TransformError
    from transforms.report_export import write_csvs, write_json, write_text
    from transforms.report_html import render_html
    from transforms.reports import build_report

    err = Console(stderr=True, highlight=False)
    if args.window_from and args.window_to and args.window_from >= args.window_to:
        err.print("cdn-offload report: --from must be earlier than --to", markup=False)
        return 2
    try:
        settings = load_settings(
            args.config, threshold=args.threshold, min_requests=args.min_requests
        )
        alert_settings = load_alert_settings(args.config)
        data = resolve(args.data)
        events = tl.load_events(args.events) if args.events else None
        rule = tl.SpikeRule(ratio=args.spike_ratio) if args.spike_ratio else tl.SpikeRule()
        window = offload.Window.aligned(args.window_from, args.window_to)
        with _progress() as progress:
            if args.update_rollups:
                if progress:
                    progress(0, 1, "updating rollups")
                rollups.update_rollups(data, settings)
            doc = build_report(
                data,
                settings,
                window,
                peak_concurrency=args.peak_concurrency,
                events=events,
                spike_rule=rule,
                alert_settings=alert_settings,
                source=args.source,
                progress=progress,
            )
            html = render_html(doc)
    except (TransformError, ValueError) as exc:
        err.print(f"cdn-offload report: {exc}", markup=False)
        return 1 if isinstance(exc, TransformError) and not exc.terminal else 2
    try:
        write_text(Path(args.out), html)
        written = [args.out]
        if args.json_out:
            write_json(doc, args.json_out)
            written.append(args.json_out)
        if args.csv_dir:
            files = write_csvs(doc, args.csv_dir)
            written.append(f"{args.csv_dir} ({len(files)} CSV files)")
    except OSError as exc:
        err.print(f"cdn-offload report: cannot write the report: {exc}", markup=False)
        return 1
    if doc["empty"]:
        err.print(f"The window holds no data: {doc['empty_reason']}.", markup=False)
    err.print(f"Report written: {', '.join(written)}", markup=False)
    return 1 if doc["empty_kind"] == "no_data" else 0
