"""`cdn-offload validate`: run the data-quality suite over landed Parquet partitions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from cdn_offload.commands.arguments import timestamp

_SAMPLE_WIDTH = 60


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {text!r}")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "validate",
        help="check landed Parquet partitions with the data-quality suite",
        description="Run the Great Expectations suite for canonical edge requests over the "
        "partitions of DATA_DIR/raw in the window, store the results under DATA_DIR/quality/ "
        "(validation-<time>.json and latest.json) and print a summary. Exit status 0 when every "
        "check passes, 1 when one fails or there is no data, 2 on bad arguments.",
    )
    parser.add_argument(
        "--data", required=True, metavar="DATA_DIR", help="data directory or s3://bucket/prefix"
    )
    parser.add_argument(
        "--from",
        dest="start",
        type=timestamp,
        metavar="ISO",
        help="window start, inclusive (UTC when no offset; default: oldest partition)",
    )
    parser.add_argument(
        "--to",
        dest="end",
        type=timestamp,
        metavar="ISO",
        help="window end, exclusive (default: newest partition, future ones included)",
    )
    parser.add_argument(
        "--max-unknown-share",
        type=_share,
        default=None,
        metavar="F",
        help="largest share of UNKNOWN cache statuses per source format (default 0.2)",
    )
    parser.add_argument("--json", action="store_true", help="print the result document as JSON")
    parser.add_argument(
        "--every-s",
        type=float,
        metavar="S",
        help="live path: validate again every S seconds until Ctrl-C/SIGTERM (exit status 0)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.every_s is None:
        return run_once(args)
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.is_set():
            run_once(args)
            stop.wait(args.every_s)
    except KeyboardInterrupt:
        pass
    return 0


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("validating partitions"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("validate", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def run_once(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ingest.storage import resolve
    from transforms.errors import NoDataError
    from transforms.quality import QualitySettings, store_validation, validate

    err = Console(stderr=True, highlight=False)
    if args.start and args.end and args.start >= args.end:
        err.print("[red]error:[/red] --from must be earlier than --to")
        return 2
    try:
        resolve(args.data)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}", markup=False)
        return 2
    settings = QualitySettings()
    if args.max_unknown_share is not None:
        settings = QualitySettings(max_unknown_share=args.max_unknown_share)
    try:
        with _progress(args.json) as progress:
            result = validate(args.data, args.start, args.end, settings=settings, progress=progress)
        stored = store_validation(args.data, result)
    except NoDataError as exc:
        if args.json:
            sys.stdout.write(
                json.dumps({"success": False, "error": "no_data", "detail": str(exc)}) + "\n"
            )
        else:
            err.print(f"No data to validate: {exc}", markup=False)
        return 1
    except OSError as exc:
        err.print(f"error: cannot read or write {args.data}: {exc}", markup=False)
        return 1
    if args.json:
        sys.stdout.write(json.dumps({**result, "stored": stored}) + "\n")
    else:
        # Off a terminal rich assumes 80 columns, which would cut the check names.
        width = None if sys.stdout.isatty() else 160
        _print_summary(Console(highlight=False, width=width), result, stored)
    return 0 if result["success"] else 1


def printable(value: Any, width: int = _SAMPLE_WIDTH) -> str:
    """One-line text for any sample value: control characters shown as escapes, long text cut."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )
    return text if len(text) <= width else text[: width - 1] + "…"


def _percent(value: float) -> str:
    if value == 0:
        return "0"
    return "<0.01%" if value < 0.01 else f"{value:.2f}%"


def _print_summary(console: Any, result: dict[str, Any], stored: str) -> None:
    from rich.table import Table
    from rich.text import Text

    window = result["window"]
    console.print(
        Text(
            f"Validated {result['rows']:,} rows from {result['files']:,} files in "
            f"{result['partitions']:,} partitions ({result['first_partition']} … "
            f"{result['last_partition']}), window {window['start'] or 'open'} … "
            f"{window['end'] or 'open'}, in {result['duration_s']:.1f} s "
            f"(Great Expectations {result['gx_version']})."
        )
    )
    table = Table(show_lines=False)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("unexpected", justify="right", no_wrap=True)
    table.add_column("%", justify="right", no_wrap=True)
    table.add_column("sample unexpected values", overflow="fold")
    for check in result["checks"]:
        if check["errors"]:
            verdict = Text("ERROR", style="bold red")
        elif check["success"]:
            verdict = Text("pass", style="green")
        else:
            verdict = Text("FAIL", style="bold red")
        samples = ", ".join(
            f"{printable(s['value'])} ×{s['count']}" for s in check["sample_unexpected"]
        )
        if check["errors"]:
            samples = printable(check["errors"][0], 120)
        table.add_row(
            Text(check["name"]),
            verdict,
            Text(f"{check['unexpected_count']:,}"),
            Text(_percent(check["unexpected_percent"])),
            Text(samples),
        )
    console.print(table)
    failed = result["failed_checks"]
    if failed:
        console.print(
            Text(f"{len(failed)} of {len(result['checks'])} checks failed.", style="bold red")
        )
    else:
        console.print(Text(f"All {len(result['checks'])} checks passed.", style="green"))
    console.print(Text(f"Results stored in {stored}"))
