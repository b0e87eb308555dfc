"""Where the report's optional sections come from, and what they say when a source is absent.

Evidence, CDN comparison, snapshot candidates and capacity come from the suggestions
work (`transforms.evidence`, `.comparison`, `.snapshots`, `.capacity`), the alert
replay from `transforms.alerts`; each is looked up when the report runs. A source
that is not installed yields `{"available": false, "reason": ...}`, never a number.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import duckdb

from ingest.storage import Location
from transforms import offload
from transforms import report_timeline as tl
from transforms.config import TransformSettings
from transforms.errors import NoDataError

EVIDENCE_LIMIT = 20
"""Flags (in rank order) whose evidence is gathered; each one is a query over raw rows."""


def unavailable(reason: str) -> dict[str, Any]:
    """A section that could not be produced, and why."""
    return {"available": False, "reason": reason}


def optional(module: str, function: str) -> Callable[..., Any] | None:
    """`module.function` when that source exists in this installation, else None."""
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None
    return getattr(found, function, None)


def call(module: str, function: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """`{"available": true, "result": module.function(...)}`, or why it is not available."""
    fn = optional(module, function)
    if fn is None:
        return unavailable(f"{module}.{function} is not part of this installation yet")
    try:
        return {"available": True, "result": fn(*args, **kwargs)}
    except NoDataError as exc:
        return unavailable(str(exc))


def _plain(value: Any) -> Any:
    """A DuckDB value as JSON-ready data (structs as dicts, times as ISO, no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return tl.iso(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def built_evidence(
    con: duckdb.DuckDBPyConnection, flags: list[dict[str, Any]], window: offload.Window
) -> list[dict[str, Any] | None] | None:
    """Evidence per flag from the `template_evidence` mart already built on `con`, or None.

    `offload.report` runs `suggestions_for`, which builds the evidence of every flagged
    scope on the marts' connection in one pass over the raw rows; reading it back costs
    nothing, where `template_evidence()` per flag would scan and template the raw rows
    again for each. Rows are shaped by `transforms.evidence.shape_evidence`, so each
    entry equals what `template_evidence` returns for that scope and `window` (without
    its suggestions, which the flag carries). None when the mart or the shaper is absent.
    """
    shape = optional("transforms.evidence", "shape_evidence")
    present = con.execute(
        "select count(*) from information_schema.tables where table_name = $name",
        {"name": "template_evidence"},
    ).fetchall()
    if shape is None or not present[0][0]:
        return None
    rel = con.execute("select * from template_evidence")
    names = [d[0] for d in rel.description]
    by_scope: dict[tuple[str, str | None], dict[str, Any]] = {}
    for values in rel.fetchall():
        row = {n: _plain(v) for n, v in zip(names, values, strict=True)}
        by_scope.setdefault((row["path_template"], row["cdn"]), row)
    bounds = {
        "from": tl.iso(window.start) if window.start else None,
        "to": tl.iso(window.end) if window.end else None,
    }
    out: list[dict[str, Any] | None] = []
    for f in flags:
        found = by_scope.get((f["path_template"], f["cdn"]))
        out.append(
            None
            if found is None
            else {
                "path_template": f["path_template"],
                "cdn": f["cdn"],
                "window": bounds,
                **shape(found),
            }
        )
    return out


def flagged(
    data: Location,
    settings: TransformSettings,
    window: offload.Window,
    flags: list[dict[str, Any]],
    built: list[dict[str, Any] | None] | None,
    step: Callable[[str], None],
) -> dict[str, Any]:
    """The flags in rank order, each with its evidence and its best estimated gain.

    Evidence comes from `built` (see `built_evidence`) when given, else from
    `transforms.evidence.template_evidence` for the first EVIDENCE_LIMIT flags (one
    query over raw rows each; `step` is called before each).
    """
    evidence_fn = optional("transforms.evidence", "template_evidence")
    reason = None if evidence_fn or built is not None else "transforms.evidence is not installed"
    if built is not None and flags and all(e is None for e in built):
        reason = "no raw rows in the window; the figures come from the stored rollups"
    rows = []
    for rank, flag in enumerate(flags, start=1):
        evidence: dict[str, Any] | None = None
        if built is not None:
            evidence = built[rank - 1]
        elif evidence_fn is not None and reason is None and rank <= EVIDENCE_LIMIT:
            step(f"evidence {rank}/{min(len(flags), EVIDENCE_LIMIT)}")
            try:
                found = evidence_fn(data, settings, window, flag["path_template"], flag["cdn"])
                # The flag carries its suggestions already.
                evidence = {k: v for k, v in found.items() if k != "suggestions"}
            except NoDataError as exc:
                # Raw rows deleted (rollups kept): flags stay, evidence cannot be had.
                reason = f"evidence needs the raw rows of the window: {exc}"
        rows.append(
            {**flag, "rank": rank, "evidence": evidence, "estimated_gain": estimated_gain(flag)}
        )
    return {
        "available": True,
        "rows": rows,
        "evidence_available": reason is None,
        "evidence_reason": reason,
        "evidence_limit": None if built is not None else EVIDENCE_LIMIT,
        "suggestions_available": any(f["suggestions"] for f in flags),
    }


def estimated_gain(flag: dict[str, Any]) -> dict[str, Any] | None:
    """The largest estimated gain among a flag's suggestions, or None without estimates.

    Suggestions for one template overlap (they fix the same misses), so their savings
    are not added up: the report shows the best single one.
    """
    best: dict[str, Any] | None = None
    for s in flag.get("suggestions") or []:
        saved = s.get("estimated_origin_requests_saved")
        if isinstance(saved, int | float) and (
            best is None or saved > best["origin_requests_saved"]
        ):
            best = {
                "code": s.get("code"),
                "origin_requests_saved": saved,
                "request_offload_after": s.get("estimated_request_offload_after"),
            }
    return best


def capacity(
    data: Location,
    settings: TransformSettings,
    window: offload.Window,
    peak: int | None,
    source: str = "auto",
) -> dict[str, Any]:
    """The capacity projection at `peak` concurrent viewers; unavailable without a target."""
    if peak is None:
        return unavailable("no target given: pass --peak-concurrency N to project origin load")
    section = call(
        "transforms.capacity", "project_capacity", data, settings, window, peak, source=source
    )
    return {**section, "peak_concurrency": peak}


def alerts(
    data: Location,
    settings: TransformSettings,
    window: offload.Window,
    alert_settings: Any | None,
) -> dict[str, Any]:
    """The alert replay of the window ("what would have fired"), from stored rollups."""
    replay = optional("transforms.alerts", "replay")
    if replay is None:
        return unavailable("alerts were not evaluated: the alert replay is not available yet")
    from transforms import rollups
    from transforms.alert_config import load_alert_settings

    alert_settings = alert_settings or load_alert_settings()
    try:
        result = replay(data, settings, alert_settings, window.start, window.end)
    except NoDataError as exc:
        return unavailable(
            f"alerts were not evaluated: {exc} (or pass --update-rollups to the report)"
        )
    events = [{"at": n["at"], **a} for n in result["notifications"] for a in n["alerts"]]
    return {
        "available": True,
        "rollups_fresh": rollups.rollups_fresh(data, settings),
        "settings": {
            k: getattr(alert_settings, k)
            for k in (
                "window_minutes",
                "step_minutes",
                "fire_after_windows",
                "resolve_after_windows",
            )
        },
        "result": {
            **result,
            "from": tl.iso(result["from"]),
            "to": tl.iso(result["to"]),
        },
        "events": events,
        "fired": sum(e["event"] == "firing" for e in events),
        "resolved": sum(e["event"] == "resolved" for e in events),
        "firing_at_end": len(result["firing_at_end"]),
    }
