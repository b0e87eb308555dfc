"""`cdn-offload capacity`: origin requests/s and egress per template at a target audience."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any

from cdn_offload.commands.arguments import add_window

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CSV_COLUMNS = [
    "path_template",
    "requests_per_viewer_s",
    "edge_requests_per_s",
    "request_offload_now",
    "request_offload_after",
    "origin_requests_per_s_now",
    "origin_requests_per_s_after",
    "origin_egress_bytes_per_s_now",
    "origin_egress_bytes_per_s_after",
]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "capacity",
        help="project origin requests/s and egress per template at a target concurrency",
        description="Origin capacity planning: per-viewer request rates observed at the peak "
        "minutes of the window (distinct client keys per minute as the concurrency proxy), "
        "scaled to --peak-concurrency viewers, now and after the suggested cache-policy changes.",
    )
    p.add_argument(
        "--data", required=True, metavar="DATA_DIR", help="local path or s3://bucket/prefix"
    )
    p.add_argument(
        "--peak-concurrency", required=True, type=_positive, metavar="N", help="target viewers"
    )
    add_window(p, "window start", "window end")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("--top", type=_positive, default=20, help="templates in the table (default 20)")
    p.add_argument(
        "--source",
        choices=["auto", "raw", "rollups"],
        default="auto",
        help="read stored rollups or raw files (auto: rollups when up to date)",
    )
    p.add_argument("--config", metavar="FILE", help="TOML file with a [transforms] table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ingest.storage import resolve
    from transforms import offload
    from transforms.capacity import project_capacity
    from transforms.config import load_settings
    from transforms.errors import TransformError

    try:
        settings = load_settings(args.config)
        window = offload.Window.aligned(args.window_from, args.window_to)
        result = project_capacity(
            resolve(args.data), settings, window, args.peak_concurrency, args.source
        )
    except (TransformError, ValueError) as exc:
        print(f"cdn-offload capacity: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, TransformError) and not exc.terminal else 2
    try:
        _print(result, args.format, args.top)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _print(result: dict[str, Any], fmt: str, top: int) -> None:
    if fmt == "json":
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif fmt == "csv":
        from transforms.export import write_csv

        total = {"path_template": "(total)", **result["total"]}
        write_csv([total, *result["templates"]], sys.stdout, CSV_COLUMNS)
    else:
        _table(result, top)
    sys.stdout.flush()


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _rate_bytes(value: float | None) -> str:
    """Bytes per second as bits per second with a unit (egress is sized in bits)."""
    if value is None:
        return "-"
    bits = value * 8
    for unit in ("b/s", "kb/s", "Mb/s", "Gb/s", "Tb/s"):
        if abs(bits) < 1000 or unit == "Tb/s":
            return f"{bits:,.0f} {unit}" if unit == "b/s" else f"{bits:,.1f} {unit}"
        bits /= 1000
    return "-"


def _table(result: dict[str, Any], top: int) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    window, observed = result["window"], result["observed"]
    console.print(
        Text(
            f"Window {window['from']} .. {window['to']} ({window['source']}); peak minutes "
            f"{', '.join(observed['peak_minutes']) or '-'} with "
            f"{_num(observed['peak_viewers'])} distinct clients on average; projected to "
            f"{result['peak_concurrency']:,} viewers"
            + ("" if result["suggestions_applied"] else " (no suggestions to apply)")
        )
    )
    table = Table(title="Origin capacity", title_justify="left")
    table.add_column("template", overflow="fold", min_width=18, ratio=1)
    for name in ("edge/s", "offl.", "after", "origin/s", "after", "egress", "after"):
        table.add_column(name, justify="right", no_wrap=True)
    rows = [{"path_template": "(total)", **result["total"]}, *result["templates"][:top]]
    for r in rows:
        table.add_row(
            # Templates come from logged paths: text only, never markup or control codes.
            Text(_CONTROL.sub("?", str(r["path_template"]))),
            _num(r.get("edge_requests_per_s")),
            _pct(r.get("request_offload_now")),
            _pct(r.get("request_offload_after")),
            _num(r.get("origin_requests_per_s_now")),
            _num(r.get("origin_requests_per_s_after")),
            _rate_bytes(r.get("origin_egress_bytes_per_s_now")),
            _rate_bytes(r.get("origin_egress_bytes_per_s_after")),
        )
    console.print(table)
