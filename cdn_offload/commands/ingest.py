"""`cdn-offload ingest files|kafka`: land edge logs as canonical Parquet."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from cdn_offload.commands import ingest_kafka
from cdn_offload.progress import byte_progress


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "ingest",
        help="ingest CDN edge logs from files or Kafka into Parquet",
        description="Ingest CDN edge logs into Hive-partitioned canonical Parquet "
        "(DATA_DIR/raw/dt=YYYY-MM-DD/hour=HH/) with bad lines quarantined in DATA_DIR/quarantine/.",
    )
    kinds = parser.add_subparsers(dest="ingest_kind", metavar="SOURCE", required=True)
    files = kinds.add_parser(
        "files",
        help="ingest log files and directories (plain, gzip or zstd)",
        description="Read log files and directories, detect or apply the format, and write "
        "canonical Parquet. Ingesting the same input twice rewrites the same files: no row "
        "is ever duplicated. Exit status 1 when an input could not be read as a log.",
    )
    files.add_argument("paths", nargs="+", metavar="PATH", help="log files or directories")
    files.add_argument(
        "--out", required=True, metavar="DATA_DIR", help="data directory or s3://bucket/prefix"
    )
    files.add_argument(
        "--format",
        default=None,
        metavar="NAME",
        help="format name or 'auto' (default: auto; see `cdn-offload formats`)",
    )
    files.add_argument("--config", metavar="FILE", help="TOML settings file ([ingest] table)")
    files.add_argument(
        "--client-ip",
        dest="client_ip_mode",
        choices=["truncate", "hash", "raw"],
        default=None,
        help="how client IPs are stored (default truncate: /24 and /48)",
    )
    files.add_argument(
        "--json", action="store_true", help="print one JSON summary object at the end"
    )
    files.add_argument(
        "--no-validate",
        action="store_true",
        help="skip the data-quality suite over the event window just written (run by default)",
    )
    files.set_defaults(func=run_files)
    ingest_kafka.register(kinds)


def run_files(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ingest.config import load_settings
    from ingest.errors import ConfigError, SinkError
    from ingest.file_source import expand_inputs, ingest_files

    err = Console(stderr=True)
    try:
        settings = load_settings(
            args.config, out=args.out, format=args.format, client_ip_mode=args.client_ip_mode
        )
        total = sum(p.stat().st_size for p in expand_inputs(args.paths))
        with byte_progress(total, "ingesting", quiet=args.json) as advance:
            summary = ingest_files(
                args.paths, settings, progress=None if advance is None else advance
            )
    except ConfigError as exc:
        err.print(f"[red]configuration error[/red]\n{exc}")
        return 2
    except FileNotFoundError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2
    except SinkError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 1
    result = summary.as_json()
    window = summary.event_window()
    if window and not args.no_validate:
        result["validation"] = _validate(args.out, window)
        if not args.json:
            err.print(f"  data quality: {result['validation']}", markup=False)
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        err.print(
            f"{summary.files} files, {summary.lines_read} lines: {summary.rows_written} rows written, "
            f"{summary.rows_quarantined} quarantined, {summary.lines_skipped} header/blank lines skipped"
        )
        for fmt, n in sorted(summary.by_format.items()):
            err.print(f"  {fmt}: {n} rows")
        for reason, n in sorted(summary.by_reason.items()):
            err.print(f"  quarantined {reason}: {n}")
        for failed in summary.failed_inputs:
            err.print(
                f"[red]not ingested[/red] {failed['file']}: {failed['reason']}: {failed['detail']}"
            )
    return 1 if summary.failed_inputs else 0


def _validate(out: str, window: tuple[datetime, datetime]) -> str:
    """Batch path: the GX suite over the event window just written; the result is stored."""
    from transforms.quality import store_validation, validate

    result = validate(out, window[0], window[1])
    store_validation(out, result)
    if result["success"]:
        return "passed"
    names = ", ".join(str(n) for n in result["failed_checks"][:5])
    return f"failed ({names}); see `cdn-offload validate --data {out}`"
