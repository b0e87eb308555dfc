"""`cdn-offload formats`: the supported log formats and how each is recognised."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "formats",
        help="list supported log formats",
        description="List the log formats `ingest --format` accepts. With --format auto the "
        "format is detected from each input's content, never from its name.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ingest import formats

    rows = []
    for name in formats.FORMAT_MODULES:
        mod = formats.module(name)
        descriptions = getattr(mod, "DESCRIPTIONS", {})
        cdns = getattr(mod, "CDNS", {})
        rows.append(
            {
                "format": name,
                "cdn": cdns.get(name, mod.CDN),
                "description": descriptions.get(name, mod.DESCRIPTION),
            }
        )
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Supported log formats (--format NAME, or auto)")
    for col in ("format", "cdn", "description"):
        table.add_column(col)
    for row in rows:
        table.add_row(row["format"], row["cdn"], row["description"])
    Console().print(table)
    return 0
