"""Offload alerts: hysteresis over sliding windows, grouped notifications, live and replayed.

`run_windows` advances an alert state through a run of evaluated windows (see
transforms/alert_windows.py) and returns one notification per window end with
events, each alert with its top suggestion. `replay` does so for a past period with
a fresh state and no side effects ("what would have fired"); the live loop is
transforms/alert_watch.py. `read_alerts` lists persisted alerts for dashboards.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ingest.storage import Location, resolve
from transforms import models, offload
from transforms.alert_config import AlertSettings
from transforms.alert_delivery import Dispatcher
from transforms.alert_payloads import alert_document, notification_document
from transforms.alert_state import (
    AlertEvent,
    AlertState,
    EventKind,
    Hysteresis,
    advance,
    load_state,
)
from transforms.alert_windows import (
    MINUTE,
    EvaluatedWindow,
    evaluate_windows,
    floor_to_step,
    rollup_extent,
    threshold_of,
)
from transforms.config import TransformSettings
from transforms.errors import NoDataError
from transforms.suggestions import suggestions_for

log = logging.getLogger(__name__)


def hysteresis(alert_settings: AlertSettings) -> Hysteresis:
    return Hysteresis(
        alert_settings.fire_after_windows,
        alert_settings.resolve_after_windows,
        alert_settings.renotify_interval_s,
        alert_settings.resolved_retention_s,
    )


def state_location(data: Location, alert_settings: AlertSettings) -> Location:
    """Where the alert state lives: the configured path, else DATA_DIR/alerts/state.json."""
    if alert_settings.state_path:
        return resolve(alert_settings.state_path)
    return data.join("alerts", "state.json")


def _flag(event: AlertEvent) -> dict[str, Any]:
    """The alert as an offload flag row (FLAG_FIELDS), the shape suggestions_for takes."""
    s, m = event.series, event.series.metrics
    flag = {k: m.get(k) for k in offload.FLAG_FIELDS}
    flag.update(
        path_template=s.template,
        cdn=s.cdn,
        scope="template" if s.cdn is None else "template_cdn",
        severity=s.severity,
    )
    return flag


def top_suggestions(
    data: Location,
    settings: TransformSettings,
    alert_settings: AlertSettings,
    events: list[AlertEvent],
    end: datetime,
) -> list[dict[str, Any] | None]:
    """The first suggestion for each event's template x scope (None when there is none).

    The evidence window runs from one alert window before the earliest `since` to
    `end`. A failing suggestion engine costs the suggestion, not the alert.
    """
    if not events:
        return []
    span = timedelta(minutes=alert_settings.window_minutes)
    start = min(e.series.since or e.at for e in events) - span
    con = models.connect()
    try:
        offload.build_marts(con, data, settings, offload.Window(start, end), "rollups")
        found = suggestions_for(con, [_flag(e) for e in events])
    # Alerting must degrade, not stop, when the suggestion rules fail: log and go on.
    except Exception:
        log.exception("Suggestions failed; alerts go out without them.")
        return [None] * len(events)
    finally:
        con.close()
    return [s[0] if s else None for s in found]


def _suggest(
    data: Location,
    settings: TransformSettings,
    alert_settings: AlertSettings,
    state: AlertState,
    events: list[AlertEvent],
    end: datetime,
) -> None:
    """Attach a top suggestion to events (and their series) that have none yet: one query."""
    needing: dict[str, AlertEvent] = {}
    for e in events:
        if e.kind != "resolved" and e.series.suggestion is None:
            needing.setdefault(e.series.key, e)
    tops = top_suggestions(data, settings, alert_settings, list(needing.values()), end)
    found = {key: top for key, top in zip(needing, tops, strict=True) if top is not None}
    for e in events:
        if e.series.suggestion is None and e.series.key in found:
            e.series.suggestion = found[e.series.key]
    for key, top in found.items():
        if key in state.series and state.series[key].suggestion is None:
            state.series[key].suggestion = top


@dataclass
class EvaluationRun:
    """What evaluating a run of windows produced: notification documents, in order."""

    windows: int = 0
    notifications: list[dict[str, Any]] = field(default_factory=list)
    latest: EvaluatedWindow | None = None


def run_windows(
    data: Location,
    settings: TransformSettings,
    alert_settings: AlertSettings,
    state: AlertState,
    first_end: datetime,
    last_end: datetime,
) -> EvaluationRun:
    """Advance `state` through the windows ending in [first_end, last_end].

    Returns one notification document per window end with events. Windows without
    any data (a gap in the feed) change no streak.
    """
    rules = hysteresis(alert_settings)
    run = EvaluationRun()
    groups: list[tuple[datetime, list[AlertEvent]]] = []
    tracked = [(s.template, s.cdn) for s in state.firing()]
    for window in evaluate_windows(data, settings, alert_settings, first_end, last_end, tracked):
        if not window.has_data:
            continue
        run.windows += 1
        run.latest = window
        events = advance(state, window.start, window.end, window.rows, rules)
        if events:
            groups.append((window.end, events))
    _suggest(data, settings, alert_settings, state, [e for _, g in groups for e in g], last_end)
    threshold = threshold_of(settings, alert_settings)
    run.notifications = [
        notification_document(at, events, alert_settings, threshold) for at, events in groups
    ]
    if state.last_window_end is None or state.last_window_end < last_end:
        state.last_window_end = last_end
    return run


def replay(
    data: Location,
    settings: TransformSettings,
    alert_settings: AlertSettings,
    start: datetime | None = None,
    end: datetime | None = None,
    dispatcher: Dispatcher | None = None,
) -> dict[str, Any]:
    """The alert timeline of windows ending in (start, end], from a fresh state.

    Open bounds default to the extent of the stored rollups. Nothing is persisted;
    notifications go to `dispatcher` only when one is given.

    Raises:
        NoDataError: there are no stored rollups.
    """
    extent = rollup_extent(data)
    if extent is None:
        raise NoDataError(
            models.rollup_location(data).uri, "run `cdn-offload analyze --update-rollups`"
        )
    step = timedelta(minutes=alert_settings.step_minutes)
    first_end = floor_to_step(start or extent[0], alert_settings.step_minutes) + step
    last_end = floor_to_step(end or extent[1] + MINUTE, alert_settings.step_minutes)
    state = AlertState()
    run = run_windows(data, settings, alert_settings, state, first_end, last_end)
    if dispatcher is not None:
        for notification in run.notifications:
            dispatcher.dispatch(notification)
    threshold = threshold_of(settings, alert_settings)
    return {
        "from": first_end - step,
        "to": last_end,
        "windows": run.windows,
        "threshold": threshold,
        "notifications": run.notifications,
        "firing_at_end": [
            alert_document(AlertEvent("firing", last_end, s), alert_settings, threshold)
            for s in state.firing()
        ],
    }


def read_alerts(data: Location, alert_settings: AlertSettings) -> list[dict[str, Any]]:
    """Firing alerts (most severe first), then resolved ones still kept (latest first).

    Each item is an alert document (see transforms/alert_payloads.py), as persisted
    by the live evaluator; `[]` before its first cycle.

    Raises:
        AlertStateError: the state file cannot be read.
    """
    state = load_state(state_location(data, alert_settings))
    resolved = sorted(
        (s for s in state.series.values() if s.status == "resolved" and s.resolved_at),
        key=lambda s: s.resolved_at or s.since or datetime.min,
        reverse=True,
    )
    docs = []
    for s in [*state.firing(), *resolved]:
        kind: EventKind = "firing" if s.status == "firing" else "resolved"
        at = s.resolved_at or state.last_window_end or s.since or datetime.now(UTC)
        threshold = s.metrics.get("threshold") or alert_settings.threshold or 0.0
        docs.append(alert_document(AlertEvent(kind, at, s), alert_settings, threshold))
    return docs
