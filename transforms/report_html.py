"""The report document as one self-contained HTML page.

The page has no scripts and loads nothing: CSS is inline and charts are inline SVG
(`report_charts`). The Jinja2 environment autoescapes everything, so a path such as
`/<script>` is shown as text; only the charts' SVG, built from escaped text, is
inserted as markup.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from transforms import report_charts as charts

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html.j2"


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def pct(value: Any, digits: int = 1) -> str:
    """0.8734 -> '87.3%'; '–' when there is no value."""
    return f"{value:.{digits}%}" if _finite(value) else "–"


def num(value: Any) -> str:
    """Whole number with thousands separators; '–' when there is no value."""
    return f"{value:,.0f}" if _finite(value) else "–"


def rate(value: Any) -> str:
    """A per-second rate with enough digits to read small rates."""
    if not _finite(value):
        return "–"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def size(value: Any) -> str:
    """Bytes in decimal units (1 kB = 1000 B)."""
    if not _finite(value):
        return "–"
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(value) < 1000 or unit == "PB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return "–"


def bits(value: Any) -> str:
    """Bytes per second as bits per second (Mbit/s), the unit egress is bought in."""
    if not _finite(value):
        return "–"
    for unit in ("bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"):
        if abs(value * 8) < 1000 or unit == "Tbit/s":
            return f"{value * 8:,.1f} {unit}"
        value /= 1000
    return "–"


def ms(value: Any) -> str:
    """Milliseconds, whole above 10 ms."""
    if not _finite(value):
        return "–"
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def when(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO time as `fmt` (UTC), or the text itself when it is not a time."""
    if not isinstance(value, str):
        return "–" if value is None else str(value)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime(fmt)
    except ValueError:
        return value


def cell(value: Any) -> str:
    """Any scalar from a section whose shape the template does not know, as short text."""
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "–"}[value]
    if isinstance(value, float):
        if not _finite(value):
            return "–"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def columns(rows: list[Any]) -> list[str]:
    """Keys of the scalar fields of a list of records, in first-seen order."""
    seen: dict[str, None] = {}
    for r in rows:
        if isinstance(r, dict):
            seen.update({k: None for k, v in r.items() if is_scalar(v)})
    return list(seen)


def environment() -> Environment:
    """The Jinja2 environment of the report: autoescape on, undefined names are errors."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pct=pct, num=num, rate=rate, size=size, bits=bits, when=when, cell=cell, ms=ms
    )
    env.globals.update(is_scalar=is_scalar, columns=columns, cdn_colour=charts.cdn_colour)
    return env


def _charts(doc: dict[str, Any]) -> dict[str, Any]:
    tl, threshold = doc["timeline"], doc["threshold"]
    cdn_rows = doc["cdns"]["rows"]
    order = [r["cdn"] for r in cdn_rows]
    grid = [m["minute"] for m in tl["minutes"]]
    flagged = doc["flagged"]["rows"][:15]
    return {
        "timeline": charts.timeline_chart(tl["minutes"], tl["spikes"], tl["events"], threshold),
        "share": charts.share_chart(doc["cdns"]["share_over_time"], order, grid),
        "cdn_offload": charts.hbar_chart(
            [
                (r["cdn"], r["request_offload"], charts.cdn_colour(r["cdn"], order))
                for r in cdn_rows
            ],
            title="Request offload per CDN",
            maximum=1.0,
            threshold=threshold,
        ),
        "flagged": charts.hbar_chart(
            [
                (
                    f"{f['path_template']}" + (f" ({f['cdn']})" if f["cdn"] else ""),
                    f["origin_load_share"],
                    {"P1": "#b3261e", "P2": "#e8871e"}.get(f["severity"], "#8a8f98"),
                )
                for f in flagged
            ],
            title="Share of the window's origin load, flagged templates",
        ),
    }


def template_matrix(doc: dict[str, Any]) -> dict[str, Any] | None:
    """Request offload per busy template (rows) and CDN (columns), from the comparison."""
    section = doc["cdns"].get("comparison") or {}
    if not section.get("available"):
        return None
    found = (section.get("result") or {}).get("by_cdn_template") or []
    cdns = [r["cdn"] for r in doc["cdns"]["rows"]]
    cdns += sorted({r["cdn"] for r in found} - set(cdns), key=str)
    rows: dict[str, dict[str, Any]] = {}
    for r in sorted(found, key=lambda r: (r.get("template_rank") or 0, str(r["path_template"]))):
        rows.setdefault(r["path_template"], {})[r["cdn"]] = r
    return {
        "cdns": cdns,
        "rows": [
            {"template": t, "cells": [cells.get(c) for c in cdns]} for t, cells in rows.items()
        ],
    }


def render_html(doc: dict[str, Any]) -> str:
    """The report document (from `reports.build_report`) as a standalone HTML page."""
    template = environment().get_template(TEMPLATE)
    return template.render(doc=doc, charts=_charts(doc), matrix=template_matrix(doc))
