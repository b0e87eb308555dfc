"""`cdn-offload dashboard`: start the Streamlit dashboard on a data directory."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "dashboard",
        help="start the dashboard: live offload, explore, post-match report, data quality",
        description="Start the Streamlit dashboard (headless) on DATA_DIR and print its URL. "
        "The Live page refreshes itself; keep it open on the war-room screen during a match.",
    )
    p.add_argument(
        "--data", required=True, metavar="DATA_DIR", help="local path or s3://bucket/prefix"
    )
    p.add_argument("--port", type=int, default=8501, help="port to listen on (default 8501)")
    p.add_argument(
        "--address",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1; 0.0.0.0 to serve other machines)",
    )
    p.add_argument(
        "--refresh-s", type=float, metavar="S", help="Live page refresh interval (default 10)"
    )
    p.add_argument(
        "--live-window-min",
        type=int,
        metavar="M",
        help="complete minutes the Live headline covers (default 15)",
    )
    p.add_argument(
        "--stale-after-s",
        type=float,
        metavar="S",
        help="age of the newest record at which the feed is shown as stale (default 180)",
    )
    p.add_argument(
        "--source",
        choices=["auto", "raw", "rollups"],
        help="read stored rollups or raw files (default auto: rollups when up to date)",
    )
    p.add_argument("--config", metavar="FILE", help="TOML file with a [transforms] table")
    p.set_defaults(func=run)


def streamlit_command(app: Path, port: int, address: str) -> list[str]:
    """The `streamlit run` command line serving `app` headless on address:port."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip


def run(args: argparse.Namespace) -> int:
    import dashboards
    from dashboards.config import environment, load_dashboard_settings
    from transforms.config import load_settings
    from transforms.errors import ConfigError

    try:
        settings = load_dashboard_settings(
            data=args.data,
            config_file=args.config,
            refresh_s=args.refresh_s,
            live_window_min=args.live_window_min,
            stale_after_s=args.stale_after_s,
            source=args.source,
        )
        load_settings(settings.config_file)  # a bad config fails here, not on every page
    except ConfigError as exc:
        print(f"cdn-offload dashboard: {exc}", file=sys.stderr)
        return 2
    if "://" not in settings.data and not os.path.isdir(settings.data):
        print(
            f"cdn-offload dashboard: {settings.data} does not exist yet; "
            "the pages will say how to ingest data into it.",
            file=sys.stderr,
        )
    package = Path(dashboards.__file__).resolve().parent
    # Streamlit puts only the script's folder on sys.path; the pages import `dashboards`.
    path = os.pathsep.join(p for p in (str(package.parent), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, **environment(settings), "PYTHONPATH": path}
    host = "localhost" if args.address in ("0.0.0.0", "::") else args.address  # noqa: S104
    print(
        f"cdn-offload dashboard: serving {settings.data} at http://{host}:{args.port}/", flush=True
    )
    proc = subprocess.Popen(
        streamlit_command(package / "streamlit_app.py", args.port, args.address), env=env
    )
    # SIGTERM (a service manager, the demo) stops the server as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 130
