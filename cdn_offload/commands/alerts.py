"""`cdn-offload alerts`: watch live data for templates under the offload target, or replay."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any


def _timestamp(text: str) -> datetime:
    """ISO 8601 date or date-time; UTC when it carries no offset."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data", required=True, metavar="DATA_DIR", help="local path or s3://bucket/prefix"
    )
    p.add_argument(
        "--config", metavar="FILE", help="TOML file with [alerts], [transforms], [kafka]"
    )
    p.add_argument("--threshold", type=float, help="request offload under which a window breaches")
    p.add_argument("--min-requests", type=int, help="GET/HEAD requests a series needs per window")
    p.add_argument("--window-minutes", type=int, help="window length (default 5)")
    p.add_argument("--fire-after", type=int, help="breaching windows in a row to fire (default 3)")
    p.add_argument(
        "--resolve-after", type=int, help="healthy windows in a row to resolve (default 3)"
    )
    p.add_argument(
        "--renotify-s", type=int, help="repeat a firing alert after S seconds (0: never)"
    )
    p.add_argument("--dashboard-url", metavar="URL", help="dashboard base URL for alert links")
    sinks = p.add_argument_group("sinks")
    sinks.add_argument(
        "--webhook", action="append", metavar="URL", help="Slack-compatible webhook (repeatable)"
    )
    sinks.add_argument(
        "--webhook-format", choices=["slack", "json"], help="webhook body (default slack)"
    )
    sinks.add_argument(
        "--alertmanager",
        action="append",
        metavar="URL",
        help="receiver of Alertmanager webhook payloads (repeatable)",
    )
    sinks.add_argument("--kafka-topic", metavar="TOPIC", help="publish one record per alert")
    sinks.add_argument(
        "--bootstrap-servers",
        metavar="HOST:PORT,...",
        help="Kafka brokers (default: [kafka] settings)",
    )
    sinks.add_argument(
        "--jsonl", metavar="PATH", help="append notifications as JSON lines (- for stdout)"
    )
    sinks.add_argument("--no-console", action="store_true", help="do not print notifications")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "alerts",
        help="alert when path templates fall under the offload target (live or replayed)",
        description="Alerts on path templates under the offload threshold over sliding windows "
        "of the minute rollups, per template over all CDNs and per template x CDN.",
    )
    sub = p.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    watch = sub.add_parser(
        "watch",
        help="follow new data and notify",
        description="Each cycle brings the rollups up to date, evaluates the windows completed "
        "since the last cycle and notifies. State lives in DATA_DIR/alerts/state.json.",
    )
    _common(watch)
    watch.add_argument("--interval-s", type=float, help="seconds between cycles (default 30)")
    watch.add_argument("--once", action="store_true", help="run one cycle and exit")
    watch.add_argument("--state", metavar="PATH", help="state file (local path or s3:// URI)")
    watch.add_argument("--metrics-port", type=int, help="serve Prometheus /metrics on this port")
    watch.add_argument("--metrics-host", help="address for /metrics (default 127.0.0.1)")
    watch.add_argument(
        "--no-update-rollups",
        action="store_true",
        help="another process keeps the rollups current; only read them",
    )
    evaluate = sub.add_parser(
        "eval",
        help="replay a past window: what would have fired",
        description="Evaluate the windows ending in (--from, --to] from a fresh state and print "
        "the alert timeline. Nothing is persisted; sinks are used only with --notify.",
    )
    _common(evaluate)
    evaluate.add_argument(
        "--from",
        dest="window_from",
        type=_timestamp,
        metavar="ISO",
        help="start (default: first minute of data)",
    )
    evaluate.add_argument(
        "--to",
        dest="window_to",
        type=_timestamp,
        metavar="ISO",
        help="end (default: last minute of data)",
    )
    evaluate.add_argument("--format", choices=["table", "json"], default="table")
    evaluate.add_argument(
        "--notify", action="store_true", help="also send the notifications to the sinks"
    )
    evaluate.add_argument(
        "--no-update-rollups", action="store_true", help="read the rollups as they are"
    )
    p.set_defaults(func=run)


def _settings(args: argparse.Namespace) -> tuple[Any, Any, dict[str, Any] | None]:
    from ingest.kafka_config import load_kafka_settings
    from transforms.alert_config import load_alert_settings
    from transforms.config import load_settings

    settings = load_settings(args.config)
    alert_settings = load_alert_settings(
        args.config,
        threshold=args.threshold,
        min_requests=args.min_requests,
        window_minutes=args.window_minutes,
        fire_after_windows=args.fire_after,
        resolve_after_windows=args.resolve_after,
        renotify_interval_s=args.renotify_s,
        dashboard_url=args.dashboard_url,
        webhooks=args.webhook,
        webhook_format=args.webhook_format,
        alertmanager_urls=args.alertmanager,
        kafka_topic=args.kafka_topic,
        jsonl_path=args.jsonl,
        console=False if args.no_console else None,
        interval_s=getattr(args, "interval_s", None),
        state_path=getattr(args, "state", None),
        metrics_port=getattr(args, "metrics_port", None),
        metrics_host=getattr(args, "metrics_host", None),
    )
    kafka = None
    if alert_settings.kafka_topic:
        servers = args.bootstrap_servers
        kafka = load_kafka_settings(args.config, bootstrap_servers=servers).connection_config()
    return settings, alert_settings, kafka


def run(args: argparse.Namespace) -> int:
    from ingest.errors import ConfigError as IngestConfigError
    from transforms.errors import TransformError

    try:
        if args.alerts_command == "watch":
            return _watch(args)
        return _eval(args)
    except (TransformError, IngestConfigError, ValueError) as exc:
        print(f"cdn-offload alerts: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, TransformError) and not exc.terminal else 2


def _watch(args: argparse.Namespace) -> int:
    from ingest.storage import resolve
    from transforms.alert_metrics import AlertMetrics, MetricsServer
    from transforms.alert_sinks import build_dispatcher
    from transforms.alert_watch import AlertEvaluator, watch

    settings, alert_settings, kafka = _settings(args)
    dispatcher = build_dispatcher(alert_settings, kafka)
    metrics = AlertMetrics(alert_settings.metrics_top_series, dispatcher.stats)
    server = None
    if alert_settings.metrics_port is not None:
        server = MetricsServer(metrics, alert_settings.metrics_host, alert_settings.metrics_port)
        print(
            f"Metrics on http://{alert_settings.metrics_host}:{server.port}/metrics",
            file=sys.stderr,
        )
    evaluator = AlertEvaluator(
        resolve(args.data),
        settings,
        alert_settings,
        dispatcher,
        metrics,
        not args.no_update_rollups,
    )
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        watch(evaluator, alert_settings.interval_s, once=args.once, stop=stop)
    except KeyboardInterrupt:
        pass
    finally:
        evaluator.close()
        if server is not None:
            server.close()
    return 0


def _eval(args: argparse.Namespace) -> int:
    from ingest.storage import resolve
    from transforms import rollups
    from transforms.alert_sinks import build_dispatcher
    from transforms.alerts import replay

    settings, alert_settings, kafka = _settings(args)
    data = resolve(args.data)
    if not args.no_update_rollups:
        rollups.update_rollups(data, settings)
    dispatcher = (
        build_dispatcher(alert_settings.model_copy(update={"console": False}), kafka)
        if args.notify
        else None
    )
    try:
        result = replay(
            data, settings, alert_settings, args.window_from, args.window_to, dispatcher
        )
    finally:
        if dispatcher is not None:
            dispatcher.close()
    if args.format == "json":
        json.dump(result, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        render_timeline(result)
    return 0


def _hhmm(text: str | None) -> str:
    """`HH:MM` of an ISO time (the date is in the heading)."""
    return text[11:16] if text else "-"


def render_timeline(result: dict[str, Any]) -> None:
    """The replayed alert timeline as a rich table (repeats counted, not listed)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from transforms.alert_payloads import iso, pct, plain, suggestion_text

    console = Console()
    repeats = sum(a["event"] == "repeat" for n in result["notifications"] for a in n["alerts"])
    heading = (
        f"Alert timeline {iso(result['from'])} .. {iso(result['to'])} (UTC): {result['windows']} "
        f"windows, threshold {result['threshold']:.0%}"
    )
    console.print(
        Text(heading + (f"; {repeats} repeat notifications not listed" if repeats else ""))
    )
    table = Table(title_justify="left")
    for name in ("at", "event", "sev"):
        table.add_column(name, no_wrap=True)
    table.add_column("template", overflow="fold", ratio=3)
    table.add_column("scope", no_wrap=True)
    for name in ("offload", "origin/s"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("since", no_wrap=True)
    listed = [
        (n, a) for n in result["notifications"] for a in n["alerts"] if a["event"] != "repeat"
    ]
    with_hints = any(a["suggestion"] for _, a in listed)
    if with_hints:
        table.add_column("suggestion", overflow="fold", ratio=1)
    for n, a in listed:
        rate = a["origin_requests_per_s"]
        cells = (_hhmm(n["at"]), a["event"], a["severity"], a["template"], a["scope"])
        figures = (pct(a["request_offload"]), "-" if rate is None else f"{rate:,.1f}")
        hints = (suggestion_text(a["suggestion"]) or "",) if with_hints else ()
        table.add_row(*(Text(plain(v)) for v in (*cells, *figures, _hhmm(a["since"]), *hints)))
    console.print(table)
    firing = result["firing_at_end"]
    console.print(Text(f"Firing at the end: {len(firing)}"))
    for a in firing:
        line = f"  {a['severity']} {plain(a['template'])} on {plain(a['scope'])} since {a['since']}"
        console.print(Text(line))
