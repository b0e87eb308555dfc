"""Rendering helpers shared by the pages: problems, freshness, figures and tables.

Text from logs (paths, hosts, POPs, user agents, suggestion evidence) reaches the screen
only through `table` (st.dataframe) or st.text/st.code, which show it as text. Calls that
render markdown (st.warning, st.caption, st.metric labels, ...) get only text written
here: fixed words, numbers and times.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

import polars as pl
import streamlit as st

from dashboards import data, results
from dashboards.config import DashboardSettings
from transforms.errors import ConfigError

PERCENT_COLUMNS = {
    "request_offload",
    "byte_offload",
    "traffic_share",
    "origin_share",
    "origin_load_share",
    "cacheable_share",
    "cache_hit_ratio",
    "revalidation_share",
    "threshold",
    "estimated_request_offload_after",
    "unexpected_percent_share",
}
RATE_COLUMNS = {"origin_requests_per_s", "requests_per_s"}
SECONDS_COLUMNS = {"lag_s", "age_s"}


def pct(value: float | None) -> str:
    """A ratio as a percentage with one decimal ("—" when unknown)."""
    return "—" if value is None or not math.isfinite(value) else f"{value:.1%}"


def rate(value: float | None, unit: str = "/s") -> str:
    """A rate with one decimal, or two below 10 (thin traffic still shows a number)."""
    if value is None:
        return "—"
    return f"{value:,.2f}{unit}" if abs(value) < 10 else f"{value:,.1f}{unit}"


def bits(bytes_per_s: float | None) -> str:
    """Bytes per second as bits per second with a unit (network people think in bits)."""
    if bytes_per_s is None:
        return "—"
    value = bytes_per_s * 8
    for unit in ("bit/s", "kbit/s", "Mbit/s", "Gbit/s"):
        if value < 1000 or unit == "Gbit/s":
            return f"{value:,.1f} {unit}"
        value /= 1000
    return "—"


def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "—" if value is None else f"{value:{fmt}} UTC"


def age(seconds: float | None) -> str:
    """A duration as the two largest units ("3 h 12 min", "45 s")."""
    if seconds is None:
        return "—"
    s = int(abs(seconds))
    days, hours, minutes = s // 86400, s % 86400 // 3600, s % 3600 // 60
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (s % 60, "s")]
    shown = [f"{n} {u}" for n, u in parts if n][:2]
    return " ".join(shown) or "0 s"


def show_problem(problem: results.Problem, error: bool = False) -> None:
    """The problem's fixed title as a banner, its detail as text and the fix as a command."""
    (st.error if error else st.warning)(problem.title, icon=":material/warning:")
    if problem.detail:
        st.text(problem.detail)
    if problem.fix:
        st.caption("How to fix it:")
        st.code(problem.fix, language="bash")


def context() -> tuple[DashboardSettings, results.DataStatus] | None:
    """Settings and data status for a page, or None after showing why there is nothing."""
    try:
        cfg = data.settings()
    except ConfigError as exc:
        show_problem(results.Problem("The dashboard settings are invalid.", str(exc)), error=True)
        return None
    status = data.data_status(cfg.data, cfg.config_file)
    if status.problem is not None:
        show_problem(status.problem)
        return None
    return cfg, status


def freshness_banner(fresh: results.Freshness, stale_after_s: float) -> None:
    """Loud red banner when the feed is stale, a quiet green one when it is live."""
    if fresh.stale:
        st.error(
            f"STALE FEED: the newest record ({when(fresh.newest)}) is {age(fresh.age_s)} old, "
            f"over the {age(stale_after_s)} limit. Figures below are not live; check the ingest.",
            icon=":material/running_with_errors:",
        )
    else:
        st.success(
            f"Live: newest record {when(fresh.newest, '%H:%M:%S')}, {age(fresh.age_s)} ago.",
            icon=":material/sensors:",
        )


def source_note(
    status: results.DataStatus, cfg: DashboardSettings, view: results.WindowView
) -> None:
    """Window, source and target in one line; how to build rollups when reading raw files."""
    window, source = view.report["window"], view.report["window"]["source"]
    st.caption(
        f"Window {window['from']} to {window['to']} · read from {source} · "
        f"target {view.report['threshold']:.0%} request offload"
    )
    if source == "raw" and not status.rollups_fresh:
        with st.expander("Reading raw files: the stored minute rollups are missing or behind"):
            st.caption("Bring them up to date to make every page faster:")
            st.code(
                f"cdn-offload analyze --data {cfg.data} --update-rollups --format json >/dev/null"
            )


def _cell(value: Any) -> Any:
    """A table cell: nested records become JSON text, so every column has one type."""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str)
    return value


def table(
    rows: pl.DataFrame | Iterable[Mapping[str, Any]],
    columns: list[str] | None = None,
    *,
    key: str | None = None,
    height: int | Literal["auto"] = "auto",
) -> None:
    """Rows as an interactive table; ratios shown as percentages, text always as text."""
    if isinstance(rows, pl.DataFrame):
        frame = rows
    else:
        records = [{k: _cell(v) for k, v in r.items()} for r in rows]
        frame = pl.DataFrame(records, infer_schema_length=None, strict=False)
    if columns is not None:
        frame = frame.select([c for c in columns if c in frame.columns])
    config: dict[str, Any] = {}
    for name in frame.columns:
        if name in PERCENT_COLUMNS:
            config[name] = st.column_config.NumberColumn(format="percent")
        elif name in RATE_COLUMNS:
            config[name] = st.column_config.NumberColumn(format="%.2f")
        elif name in SECONDS_COLUMNS:
            config[name] = st.column_config.NumberColumn(format="%.0f s")
    st.dataframe(frame, hide_index=True, column_config=config, key=key, height=height)


def _figure(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:,.4g}" if math.isfinite(value) else str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return json.dumps(value, default=str) if isinstance(value, Mapping | list) else str(value)


def document(doc: Mapping[str, Any], key: str, skip: Iterable[str] = ()) -> None:
    """A result of `transforms` as tables: one per list of records, one of all other figures.

    Every value, including text from logs, lands in a table cell.
    """
    figures: list[dict[str, Any]] = []
    tables: list[tuple[str, list[Mapping[str, Any]]]] = []

    def walk(name: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(f"{name}.{k}" if name else str(k), v)
        elif isinstance(value, list) and value and all(isinstance(r, Mapping) for r in value):
            tables.append((name, value))
        else:
            figures.append({"figure": name, "value": _figure(value)})

    for k, v in doc.items():
        if k not in set(skip):
            walk(str(k), v)
    if figures:
        table(figures, key=f"{key}_figures")
    for name, rows in tables:
        st.text(name)  # a key of the document: plain text, whatever it holds
        table(rows, key=f"{key}_{name}")


def top_suggestion(suggestions: list[dict[str, Any]] | None) -> str | None:
    """The first suggestion as `CODE: action` (plain text for a table cell), or None."""
    if not suggestions:
        return None
    first = suggestions[0]
    return ": ".join(str(v) for v in (first.get("code"), first.get("action")) if v)
