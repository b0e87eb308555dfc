"""Live alert evaluation: one cycle per interval over a data directory that keeps growing.

`AlertEvaluator.run_cycle` brings the rollups up to date, evaluates the windows
completed since the previous cycle, persists the state, then hands one notification
per window end with events to the sinks. The state is saved before notifications
are handed over, so a restart never notifies twice; a notification lost in a crash
is repeated at the re-notify interval while its alert still fires.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from ingest.storage import Location
from transforms import rollups
from transforms.alert_config import AlertSettings
from transforms.alert_delivery import Dispatcher
from transforms.alert_metrics import AlertMetrics, FlaggedSeries
from transforms.alert_state import load_state, reset_streaks, save_state
from transforms.alert_windows import (
    MINUTE,
    EvaluatedWindow,
    floor_to_step,
    rollup_extent,
    threshold_of,
)
from transforms.alerts import EvaluationRun, run_windows, state_location
from transforms.config import TransformSettings
from transforms.errors import TransformError

log = logging.getLogger(__name__)


@dataclass
class CycleResult:
    """What one live cycle did."""

    windows: int
    notifications: list[dict[str, Any]]
    firing: int
    last_window_end: datetime | None


class AlertEvaluator:
    """Live alert evaluation over one data directory; its state survives restarts."""

    def __init__(
        self,
        data: Location,
        settings: TransformSettings,
        alert_settings: AlertSettings,
        dispatcher: Dispatcher | None = None,
        metrics: AlertMetrics | None = None,
        maintain_rollups: bool = True,
    ) -> None:
        self.data = data
        self.settings = settings
        self.alert_settings = alert_settings
        self.dispatcher = dispatcher or Dispatcher([])
        self.metrics = metrics
        self.maintain_rollups = maintain_rollups
        self.state_location = state_location(data, alert_settings)
        self.state = load_state(self.state_location)
        self._latest: EvaluatedWindow | None = None
        self._warned_ahead = False

    def _window_range(self, until: datetime | None) -> tuple[datetime, datetime] | None:
        extent = rollup_extent(self.data)
        if extent is None:
            return None
        cfg = self.alert_settings
        step = timedelta(minutes=cfg.step_minutes)
        # The newest minutes may still be landing (late CDN deliveries): leave them out.
        newest = extent[1] + MINUTE - timedelta(minutes=cfg.settle_minutes)
        last_end = floor_to_step(min(newest, until) if until else newest, cfg.step_minutes)
        earliest = last_end - (cfg.max_catchup_windows - 1) * step
        previous = self.state.last_window_end
        if previous is None:
            return earliest, last_end
        first_end = floor_to_step(previous, cfg.step_minutes) + step
        if previous > last_end + (cfg.max_catchup_windows - 1) * step and not self._warned_ahead:
            self._warned_ahead = True
            log.warning(
                "The alert state is ahead of the data; nothing is evaluated until newer data "
                "lands. Use another state file for another data set.",
                extra={"state": self.state_location.uri, "last_window_end": previous.isoformat()},
            )
        if first_end < earliest:
            log.info(
                "Windows were skipped since the last cycle; pending streaks start over.",
                extra={"last_window_end": previous.isoformat(), "resume": earliest.isoformat()},
            )
            reset_streaks(self.state)
            first_end = earliest
        return first_end, last_end

    def run_cycle(self, until: datetime | None = None) -> CycleResult:
        """Evaluate the windows completed since the last cycle (ending no later than `until`).

        The state is saved before notifications are dispatched (at most once each).

        Raises:
            TransformError: rollups or state cannot be read or written (`terminal` says
                whether retrying can help).
        """
        if self.maintain_rollups:
            rollups.update_rollups(self.data, self.settings)
        bounds = self._window_range(until)
        run = EvaluationRun()
        if bounds is not None and bounds[0] <= bounds[1]:
            run = run_windows(self.data, self.settings, self.alert_settings, self.state, *bounds)
            save_state(self.state_location, self.state)
            for notification in run.notifications:
                self.dispatcher.dispatch(notification)
        self._latest = run.latest or self._latest
        if self.metrics is not None:
            self._update_metrics(self._latest)
        return CycleResult(
            run.windows, run.notifications, len(self.state.firing()), self.state.last_window_end
        )

    def _update_metrics(self, latest: EvaluatedWindow | None) -> None:
        assert self.metrics is not None
        flagged = {}
        for key, row in (latest.rows if latest else {}).items():
            if row["breaching"]:
                flagged[key] = FlaggedSeries(
                    row["path_template"], row["cdn"] or "all", row["severity"], False,
                    row["request_offload"], row["origin_requests_per_s"], row["origin_load_share"] or 0.0,
                )  # fmt: skip
        by_severity: dict[str, int] = {}
        for s in self.state.firing():
            by_severity[s.severity or "P3"] = by_severity.get(s.severity or "P3", 0) + 1
            m = s.metrics
            flagged[s.key] = FlaggedSeries(
                s.template, s.cdn or "all", s.severity or "P3", True, m.get("request_offload"),
                m.get("origin_requests_per_s"), m.get("origin_load_share") or 0.0,
            )  # fmt: skip
        last = self.state.last_window_end
        self.metrics.update(
            threshold=threshold_of(self.settings, self.alert_settings),
            last_window_end_s=last.timestamp() if last else None,
            firing_by_severity=by_severity,
            flagged=flagged.values(),
        )

    def close(self, timeout_s: float = 10.0) -> None:
        """Deliver queued notifications (up to `timeout_s` per sink) and stop the sinks."""
        self.dispatcher.close(timeout_s)


def watch(
    evaluator: AlertEvaluator,
    interval_s: float,
    *,
    once: bool = False,
    stop: threading.Event | None = None,
) -> None:
    """Run cycles every `interval_s` until `stop` is set (or after one with `once`).

    Transient failures (storage, a file replaced while read) are logged and retried
    next cycle; terminal ones (bad configuration, damaged state) are raised.
    """
    stop = stop or threading.Event()
    while True:
        ok = True
        try:
            result = evaluator.run_cycle()
            log.debug(
                "Alert cycle done.", extra={"windows": result.windows, "firing": result.firing}
            )
        except TransformError as exc:
            if exc.terminal:
                raise
            ok = False
            log.warning("Alert cycle failed; retrying next cycle.", extra={"error": str(exc)})
        except (OSError, duckdb.IOException) as exc:
            ok = False
            log.warning("Alert cycle failed; retrying next cycle.", extra={"error": str(exc)})
        if evaluator.metrics is not None:
            evaluator.metrics.record_cycle(ok)
        if once or stop.wait(interval_s):
            return
