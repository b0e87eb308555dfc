"""Machine-readable twins of the report: one JSON document and one CSV file per section.

CSV cells go through `export.write_csv`, which neutralises text a spreadsheet would run
as a formula (paths, hosts, POPs and event names come from outside).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transforms.export import write_csv

Rows = list[dict[str, Any]]


def write_json(doc: dict[str, Any], path: str | Path) -> None:
    """Write the report document as indented JSON (non-finite numbers are not allowed)."""
    write_text(Path(path), json.dumps(doc, indent=2, allow_nan=False, default=str) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A record with nested objects spread into dotted keys and lists joined by '; '."""
    out: dict[str, Any] = {}
    if not isinstance(value, dict):
        return {prefix or "value": value}
    for key, item in value.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, dict):
            out.update(flatten(item, name))
        elif isinstance(item, list):
            out[name] = "; ".join(
                json.dumps(x, default=str) if isinstance(x, dict | list) else str(x) for x in item
            )
        else:
            out[name] = item
    return out


def records(result: Any) -> Rows:
    """Rows of a section result whose shape is not fixed here: the first list of records.

    A list is taken as it is; an object contributes its first list-valued field (e.g.
    `rows`, `candidates`), else the object itself as one row.
    """
    if isinstance(result, list):
        return [flatten(r) for r in result]
    if isinstance(result, dict):
        for item in result.values():
            if isinstance(item, list) and all(isinstance(x, dict) for x in item):
                return [flatten(r) for r in item]
        return [flatten(result)]
    return [] if result is None else [{"value": result}]


def _headline(doc: dict[str, Any]) -> Rows:
    h = doc["headline"]
    row = {k: v for k, v in h.items() if not isinstance(v, dict)}
    for key in ("peak_requests", "peak_origin_requests"):
        peak = h.get(key) or {}
        row[f"{key}_minute"] = peak.get("minute")
        row[f"{key}_per_s"] = peak.get("per_s")
    row.update({f"flagged_{k}": v for k, v in h["flagged"].items()})
    row.update(window_from=doc["window"]["from"], window_to=doc["window"]["to"])
    return [row]


def _flagged(doc: dict[str, Any]) -> Rows:
    rows = []
    for f in doc["flagged"]["rows"]:
        gain = f.get("estimated_gain") or {}
        top = f["suggestions"][0] if f["suggestions"] else {}
        rows.append(
            {
                **{
                    k: v
                    for k, v in f.items()
                    if k not in ("evidence", "estimated_gain", "suggestions")
                },
                "suggestion_codes": "; ".join(str(s.get("code")) for s in f["suggestions"]),
                "top_suggestion": top.get("code"),
                "top_action": top.get("action"),
                "estimated_origin_requests_saved": gain.get("origin_requests_saved"),
                "estimated_request_offload_after": gain.get("request_offload_after"),
            }
        )
    return rows


def _suggestions(doc: dict[str, Any]) -> Rows:
    return [
        {"rank": f["rank"], "path_template": f["path_template"], "cdn": f["cdn"], **flatten(s)}
        for f in doc["flagged"]["rows"]
        for s in f["suggestions"]
    ]


def _evidence(doc: dict[str, Any]) -> Rows:
    return [
        {
            "rank": f["rank"],
            "path_template": f["path_template"],
            "cdn": f["cdn"],
            **flatten(f["evidence"]),
        }
        for f in doc["flagged"]["rows"]
        if f.get("evidence")
    ]


def _spikes(doc: dict[str, Any]) -> Rows:
    return [{**s, "events": "; ".join(s["events"])} for s in doc["timeline"]["spikes"]]


def _optional(
    key: str, *path: str, field: str | None = None
) -> Callable[[dict[str, Any]], Rows | None]:
    """Rows of an optional section's result (its `field` list when given), None if absent."""

    def rows(doc: dict[str, Any]) -> Rows | None:
        section = doc
        for part in (key, *path):
            section = section.get(part) or {}
        if not section.get("available"):
            return None
        result = section.get("result")
        if field is not None:
            result = (result or {}).get(field) or []
        return records(result)

    return rows


def _capacity(doc: dict[str, Any]) -> Rows | None:
    section = doc["capacity"]
    if not section.get("available"):
        return None
    result = section.get("result") or {}
    head = {"peak_concurrency": result.get("peak_concurrency")}
    total = {**head, "path_template": "(all templates)", **(result.get("total") or {})}
    return [total, *({**head, **flatten(t)} for t in result.get("templates") or [])]


def _checks(doc: dict[str, Any]) -> Rows:
    validation = doc["data_quality"].get("validation") or {}
    return [
        {
            **{k: v for k, v in c.items() if k not in ("sample_unexpected", "errors")},
            "run_id": validation.get("run_id"),
            "sample_unexpected": "; ".join(
                f"{s.get('value')} x{s.get('count')}" for s in c.get("sample_unexpected") or []
            ),
            "errors": "; ".join(map(str, c.get("errors") or [])),
        }
        for c in validation.get("checks") or []
    ]


SECTIONS: dict[str, Callable[[dict[str, Any]], Rows | None]] = {
    "headline": _headline,
    "timeline": lambda d: d["timeline"]["minutes"],
    "spikes": _spikes,
    "events": lambda d: d["timeline"]["events"],
    "cdns": lambda d: d["cdns"]["rows"],
    "cdn_share": lambda d: d["cdns"]["share_over_time"],
    "pops": lambda d: d["analysis"]["by_pop"],
    "cdn_comparison": _optional("cdns", "comparison", field="by_cdn"),
    "cdn_template_comparison": _optional("cdns", "comparison", field="by_cdn_template"),
    "flagged": _flagged,
    "suggestions": _suggestions,
    "evidence": _evidence,
    "snapshots": _optional("snapshots"),
    "capacity": _capacity,
    "alerts": lambda d: (
        [flatten(e) for e in d["alerts"]["events"]] if d["alerts"]["available"] else None
    ),
    "quality_checks": _checks,
    "quarantine": lambda d: d["data_quality"]["quarantine"],
}
"""CSV file name (without .csv) -> its rows; None when the section is not available."""


_KEYS = ["rank", "path_template", "cdn"]
EMPTY_COLUMNS = {
    "spikes": ["start", "end", "minutes", "peak_minute", "peak_requests_per_s", "events"],
    "events": ["name", "kind", "time"],
    "cdns": ["cdn", "requests", "traffic_share", "request_offload", "byte_offload"],
    "cdn_share": ["minute", "cdn", "requests", "share", "request_offload"],
    "pops": ["cdn", "pop", "requests", "request_offload", "byte_offload"],
    "flagged": [*_KEYS, "severity", "request_offload", "origin_load_share", "top_suggestion"],
    "suggestions": [*_KEYS, "code", "action", "estimated_origin_requests_saved"],
    "alerts": ["at", "event", "severity", "template", "scope", "request_offload", "since"],
    "evidence": _KEYS,
    "quality_checks": ["name", "success", "unexpected_count", "unexpected_percent", "run_id"],
    "quarantine": ["source", "vendor", "source_format", "stage", "reason_code", "records"],
}
"""Header of a section's CSV when it has no rows (other sections always have rows)."""


def _columns(rows: Rows) -> list[str]:
    seen: dict[str, None] = {}
    for r in rows:
        seen.update(dict.fromkeys(r))
    return list(seen)


def write_csvs(doc: dict[str, Any], directory: str | Path) -> list[Path]:
    """One `<section>.csv` per available section in `directory`; returns the files written.

    A section without rows gets a header-only file (EMPTY_COLUMNS; an empty file for a
    section whose shape is not fixed here), so the set of files depends only on which
    sections are available.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows_of in SECTIONS.items():
        rows = rows_of(doc)
        if rows is None:
            continue
        path = out / f"{name}.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            columns = _columns(rows) if rows else EMPTY_COLUMNS.get(name)
            if columns:
                write_csv(rows, fh, columns)
        written.append(path)
    return written
