"""Alert state: the hysteresis state machine per template x scope, and its file on disk.

A series (a template over all CDNs, or a template on one CDN) is *pending* while
its breaching streak is shorter than `fire_after`, *firing* once it reaches it, and
*resolved* after `resolve_after` consecutive windows that do not breach. Times are
data times (window ends), never wall-clock, so a replay gives the same timeline as
the live run did. The state file holds every series with a streak or an alert,
the last evaluated window and when each alert was last notified, so a restarted
evaluator neither fires an alert again nor forgets one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import pyarrow.fs as pafs

from ingest.storage import Location, write_bytes
from transforms.alert_config import SEVERITY_RANK
from transforms.errors import TransformError

log = logging.getLogger(__name__)
STATE_VERSION = 1
Status = Literal["pending", "firing", "resolved"]
EventKind = Literal["firing", "escalated", "repeat", "resolved"]
# Figures of a window kept with each series (the mart's columns).
METRIC_KEYS = (
    "window_start",
    "window_end",
    "requests",
    "cacheable_requests",
    "request_offload",
    "byte_offload",
    "origin_requests",
    "origin_bytes",
    "origin_requests_per_s",
    "origin_load_share",
    "threshold",
)


class AlertStateError(TransformError):
    """The state file cannot be read or written; `location` names it."""

    def __init__(self, location: str, detail: str, *, terminal: bool) -> None:
        super().__init__(f"alert state at {location}: {detail}")
        self.location = location
        self.terminal = terminal


@dataclass(frozen=True)
class Hysteresis:
    """When series fire, resolve, are notified again and are forgotten."""

    fire_after: int = 3
    resolve_after: int = 3
    renotify_s: int = 1800
    retention_s: int = 86_400


def series_key(template: str, cdn: str | None) -> str:
    """Stable id of a template x scope: also the alert fingerprint in payloads."""
    return hashlib.sha256(f"{template}\n{cdn or '*'}".encode()).hexdigest()[:16]


@dataclass
class Series:
    """One template x scope with a breaching streak or an alert."""

    template: str
    cdn: str | None
    status: Status = "pending"
    breach_streak: int = 0
    clear_streak: int = 0
    since: datetime | None = None
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    last_notified_at: datetime | None = None
    notified_severity: str | None = None
    severity: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    suggestion: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        return series_key(self.template, self.cdn)


@dataclass(frozen=True)
class AlertEvent:
    """A transition worth notifying, with a snapshot of its series at that window."""

    kind: EventKind
    at: datetime
    series: Series


@dataclass
class AlertState:
    """Every tracked series and the newest window evaluated (None before the first)."""

    last_window_end: datetime | None = None
    series: dict[str, Series] = field(default_factory=dict)

    def firing(self) -> list[Series]:
        """Firing series, most severe and largest origin share first."""
        return sorted(
            (s for s in self.series.values() if s.status == "firing"), key=_notification_order
        )


def _notification_order(s: Series) -> tuple[int, float, str, str]:
    share = s.metrics.get("origin_load_share") or 0.0
    return (SEVERITY_RANK.get(s.severity or "P3", 3), -share, s.template, s.cdn or "")


def _metrics(row: dict[str, Any] | None, window_start: datetime, window_end: datetime) -> dict:
    figures = {k: row.get(k) for k in METRIC_KEYS} if row is not None else {}
    # Without a row (no traffic at all) the figures are unknown, not zero.
    return {**figures, "window_start": window_start, "window_end": window_end}


def advance(
    state: AlertState,
    window_start: datetime,
    window_end: datetime,
    rows: dict[str, dict[str, Any]],
    rules: Hysteresis,
) -> list[AlertEvent]:
    """Apply one evaluated window to `state` and return the events to notify, in order.

    `rows` maps series keys to the window's series (`breaching`, `healthy`, `severity`,
    metrics); a series absent from `rows` had no traffic, so it neither breaches nor
    keeps an alert firing. A firing series resolves after `resolve_after` healthy
    windows in a row; an unhealthy window that does not breach (too little traffic)
    holds it. Every returned event marks its series as notified at `window_end`.
    """
    events: list[AlertEvent] = []
    for key, row in rows.items():
        if not row["breaching"]:
            continue
        s = state.series.get(key)
        if s is None or s.status == "resolved":
            s = state.series[key] = Series(row["path_template"], row["cdn"])
        s.breach_streak += 1
        s.clear_streak = 0
        s.since = s.since or window_end
        s.severity = row["severity"]
        s.metrics = _metrics(row, window_start, window_end)
        if s.status == "pending" and s.breach_streak >= rules.fire_after:
            s.status, s.fired_at = "firing", window_end
            events.append(AlertEvent("firing", window_end, s))
        elif s.status == "firing" and _more_severe(s.severity, s.notified_severity):
            events.append(AlertEvent("escalated", window_end, s))
    for key, s in list(state.series.items()):
        current = rows.get(key)
        if current is not None and current["breaching"]:
            continue
        if s.status == "pending":
            del state.series[key]  # the streak is broken
        elif s.status == "firing":
            s.breach_streak = 0
            s.metrics = _metrics(current, window_start, window_end)
            if current is not None and not current["healthy"]:
                # Still under the threshold on less traffic than it takes to fire:
                # neither a breach nor a healthy window.
                s.clear_streak = 0
                continue
            s.clear_streak += 1
            if s.clear_streak >= rules.resolve_after:
                s.status, s.resolved_at = "resolved", window_end
                events.append(AlertEvent("resolved", window_end, s))
        elif s.resolved_at and window_end - s.resolved_at > timedelta(seconds=rules.retention_s):
            del state.series[key]
    notified = {e.series.key for e in events}
    for s in state.firing():
        due = s.last_notified_at is not None and window_end - s.last_notified_at >= timedelta(
            seconds=rules.renotify_s
        )
        if rules.renotify_s > 0 and s.key not in notified and due:
            events.append(AlertEvent("repeat", window_end, s))
    for e in events:
        e.series.last_notified_at = window_end
        e.series.notified_severity = e.series.severity
    state.last_window_end = window_end
    # Snapshots, so later windows do not change what these events say.
    return sorted(
        (
            AlertEvent(e.kind, e.at, replace(e.series, metrics=dict(e.series.metrics)))
            for e in events
        ),
        key=lambda e: (e.kind == "resolved", *_notification_order(e.series)),
    )


def reset_streaks(state: AlertState) -> None:
    """Forget pending streaks (windows were skipped, so they are no longer consecutive)."""
    for key in [k for k, s in state.series.items() if s.status == "pending"]:
        del state.series[key]


def _more_severe(severity: str | None, than: str | None) -> bool:
    return SEVERITY_RANK.get(severity or "P3", 3) < SEVERITY_RANK.get(than or "P3", 3)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode_time(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


_TIME_FIELDS = {"since", "fired_at", "resolved_at", "last_notified_at"}


def to_document(state: AlertState) -> dict[str, Any]:
    """The JSON document of `state` (times as ISO 8601 with offset)."""
    return {
        "version": STATE_VERSION,
        "last_window_end": _encode(state.last_window_end),
        "series": {k: _encode(asdict(s)) for k, s in sorted(state.series.items())},
    }


def from_document(document: dict[str, Any]) -> AlertState:
    """Inverse of `to_document`. Raises KeyError/ValueError/TypeError on a malformed one."""
    if document.get("version") != STATE_VERSION:
        raise ValueError(f"unsupported state version {document.get('version')!r}")
    names = {f.name for f in fields(Series)}
    series = {}
    for key, raw in document["series"].items():
        values = {k: v for k, v in raw.items() if k in names}
        for name in _TIME_FIELDS:
            values[name] = _decode_time(values.get(name))
        metrics = dict(values.get("metrics") or {})
        for name in ("window_start", "window_end"):
            metrics[name] = _decode_time(metrics.get(name))
        values["metrics"] = metrics
        series[key] = Series(**values)
    return AlertState(_decode_time(document.get("last_window_end")), series)


def load_state(location: Location) -> AlertState:
    """The state stored at `location`, or an empty state when there is no file yet.

    Raises:
        AlertStateError: the file exists but cannot be read or parsed. Terminal when it
            is damaged (move it away to start afresh, which may notify again), transient
            when the storage failed.
    """
    try:
        if location.fs.get_file_info(location.path).type == pafs.FileType.NotFound:
            return AlertState()
        with location.fs.open_input_stream(location.path) as fh:
            raw = fh.read()
    except OSError as exc:
        raise AlertStateError(location.uri, str(exc), terminal=False) from exc
    try:
        return from_document(json.loads(raw))
    except (ValueError, KeyError, TypeError) as exc:
        raise AlertStateError(location.uri, f"damaged state file: {exc}", terminal=True) from exc


def save_state(location: Location, state: AlertState) -> None:
    """Replace the state at `location` atomically.

    Raises:
        AlertStateError: the storage refused the write (transient: the next cycle retries).
    """
    data = json.dumps(to_document(state), indent=1, sort_keys=True).encode()
    try:
        write_bytes(location, data)
    except OSError as exc:
        raise AlertStateError(location.uri, str(exc), terminal=False) from exc
