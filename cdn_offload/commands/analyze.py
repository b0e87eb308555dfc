"""`cdn-offload analyze`: offload per CDN, POP and path template, and templates under target."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any

from cdn_offload.commands.arguments import add_window

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="request and byte offload per CDN, POP and path template; flag templates under target",
        description="Offload analytics over a time window. Reads stored minute rollups when they "
        "cover every raw file, else computes the same rollup from raw Parquet.",
    )
    p.add_argument(
        "--data", required=True, metavar="DATA_DIR", help="local path or s3://bucket/prefix"
    )
    add_window(p)
    p.add_argument(
        "--threshold",
        type=float,
        help="request offload under which a template is flagged (default 0.9)",
    )
    p.add_argument(
        "--min-requests",
        type=int,
        help="GET/HEAD requests a template needs in the window to be flagged",
    )
    p.add_argument("--top", type=int, dest="top_templates", help="templates listed (default 50)")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument(
        "--source",
        choices=["auto", "raw", "rollups"],
        default="auto",
        help="read stored rollups or raw files (auto: rollups when up to date)",
    )
    rollup = p.add_mutually_exclusive_group()
    rollup.add_argument(
        "--update-rollups",
        action="store_true",
        help="first bring stored rollups up to date (only hours with new raw files)",
    )
    rollup.add_argument(
        "--rebuild-rollups", action="store_true", help="first rebuild every stored rollup"
    )
    p.add_argument("--config", metavar="FILE", help="TOML file with a [transforms] table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ingest.storage import resolve
    from transforms import offload, rollups
    from transforms.config import load_settings
    from transforms.errors import TransformError

    try:
        settings = load_settings(
            args.config,
            threshold=args.threshold,
            min_requests=args.min_requests,
            top_templates=args.top_templates,
        )
        data = resolve(args.data)
        if args.rebuild_rollups:
            rollups.rebuild_rollups(data, settings)
        elif args.update_rollups:
            rollups.update_rollups(data, settings)
        window = offload.Window.aligned(args.window_from, args.window_to)
        result = offload.analyze(data, settings, window, args.source)
    except (TransformError, ValueError) as exc:
        print(f"cdn-offload analyze: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, TransformError) and not exc.terminal else 2
    try:
        _print(result, args.format)
    except BrokenPipeError:
        # The reader stopped early (`| head`); send the rest to /dev/null quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _print(result: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        sys.stdout.flush()
    elif fmt == "csv":
        from transforms.export import report_rows, write_csv

        write_csv(report_rows(result), sys.stdout)
        sys.stdout.flush()
    else:
        render_table(result)


def _text(value: Any) -> Any:
    """Attacker-controlled text as a rich Text: no markup, no terminal control codes."""
    from rich.text import Text

    return Text("-" if value is None else _CONTROL.sub("?", str(value)))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _bytes(value: float | None) -> str:
    if value is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return "-"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _metrics_table(title: str, rows: list[dict[str, Any]], keys: list[str]) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for key in keys:
        table.add_column(key, overflow="fold", min_width=10)
    for name in ("GET/HEAD", "offload", "byte offl.", "CHR", "origin/s", "origin bytes", "reval."):
        table.add_column(name, justify="right", no_wrap=True)
    for r in rows:
        table.add_row(
            *[_text(r.get(k)) for k in keys],
            _num(r["cacheable_requests"]),
            _pct(r["request_offload"]),
            _pct(r["byte_offload"]),
            _pct(r["cache_hit_ratio"]),
            _rate(r["origin_requests_per_s"]),
            _bytes(r["origin_bytes"]),
            _pct(r["revalidation_share"]),
        )
    return table


def render_table(result: dict[str, Any]) -> None:
    """Print the report as rich tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    window = result["window"]
    console.print(
        _text(
            f"Window {window['from']} .. {window['to']} ({window['source']}), "
            f"threshold {result['threshold']:.0%}, min requests {result['min_requests']:,}"
        )
    )
    console.print(_metrics_table("Overall (GET/HEAD viewer requests)", [result["overall"]], []))
    console.print(_metrics_table("Per CDN", result["by_cdn"], ["cdn"]))
    flags = Table(title=f"Flagged ({len(result['flagged'])})", title_justify="left")
    with_suggestions = any(f["suggestions"] for f in result["flagged"])
    flags.add_column("sev", no_wrap=True)
    flags.add_column("template", overflow="fold", min_width=16)
    flags.add_column("cdn", overflow="fold")
    for name in ("GET/HEAD", "offload", "origin/s", "origin share"):
        flags.add_column(name, justify="right", no_wrap=True)
    if with_suggestions:
        flags.add_column("top suggestion", overflow="fold")
    for f in result["flagged"]:
        cells = [
            f["severity"],
            _text(f["path_template"]),
            _text(f["cdn"] or "all"),
            _num(f["cacheable_requests"]),
            _pct(f["request_offload"]),
            _rate(f["origin_requests_per_s"]),
            _pct(f["origin_load_share"]),
        ]
        if with_suggestions:
            cells.append(_text(f["suggestions"][0].get("code") if f["suggestions"] else ""))
        flags.add_row(*cells)
    console.print(flags)
    if with_suggestions or result.get("non_cacheable_templates"):
        console.print(_suggestions_table(result))
    console.print(_metrics_table("Top templates", result["templates"][:20], ["path_template"]))
    if result["non_cacheable"]:
        nc = Table(title="Non-cacheable methods (excluded from offload)", title_justify="left")
        for name in ("method", "requests", "origin req"):
            nc.add_column(name)
        for r in result["non_cacheable"]:
            nc.add_row(_text(r["method"]), _num(r["requests"]), _num(r["origin_requests"]))
        console.print(nc)


def _suggestions_table(result: dict[str, Any]) -> Any:
    """One line per suggestion under each flagged template (issue 5), best gain first."""
    from rich.table import Table

    table = Table(title="Suggestions", title_justify="left", show_lines=False)
    table.add_column("template / code", overflow="fold", min_width=16)
    table.add_column("cdn", overflow="fold")
    table.add_column("offload after", justify="right", no_wrap=True)
    table.add_column("origin saved", justify="right", no_wrap=True)
    table.add_column("action", overflow="fold", ratio=1)
    scopes = [(f["path_template"], f["cdn"], f["suggestions"]) for f in result["flagged"]]
    scopes += [
        (t["path_template"], None, t["suggestions"])
        for t in result.get("non_cacheable_templates", [])
    ]
    for template, cdn, suggestions in scopes:
        if not suggestions:
            continue
        table.add_row(_text(template), _text(cdn or "all"), "", "", "", style="bold")
        for s in suggestions:
            table.add_row(
                _text(f"  {s['code']}"),
                _text(s["cdn"] or "all"),
                _pct(s["estimated_request_offload_after"]),
                _num(s["estimated_origin_requests_saved"]),
                _text(s["action"]),
            )
    return table
