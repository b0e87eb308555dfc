"""The report's time dimension: per-minute traffic, traffic spikes, named events, peaks.

Real logs carry no match events, so spikes are found in the traffic itself: a minute
is part of a spike when its requests stand well above the centred rolling median of
the minutes around it (the baseline). Named events (toss, wickets) may be supplied
from a JSON file and are attached to the spikes they explain.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

MINUTE = timedelta(minutes=1)
# Which minute series are read from the marts, and how they are summed.
SUM_COLUMNS = [
    "requests",
    "cacheable_requests",
    "origin_requests",
    "origin_bytes",
    "bytes",
    "cacheable_bytes",
    "offloaded_bytes",
]


@dataclass(frozen=True)
class SpikeRule:
    """When a minute counts as a spike.

    A minute is a spike minute when its requests are at least `ratio` times the
    baseline (the median of the `baseline_minutes` minutes centred on it) and exceed
    it by at least `min_excess_sd` Poisson standard deviations (sqrt of the baseline),
    so that noise on thin traffic is not called a spike. Consecutive spike minutes
    form one spike.
    """

    ratio: float = 1.2
    baseline_minutes: int = 21
    min_excess_sd: float = 4.0


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime) -> str:
    """`value` as an ISO 8601 UTC string ending in Z."""
    return _utc(value).isoformat().replace("+00:00", "Z")


def _ratio(num: float, den: float) -> float | None:
    return None if den <= 0 else num / den


def minute_series(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> pl.DataFrame:
    """Overall traffic per minute of [start, end), minutes without traffic as zeros.

    Reads the `minute_offload` mart built on `con`. Columns: minute, SUM_COLUMNS,
    request_offload and byte_offload (null when a minute has no GET/HEAD requests).
    """
    cols = ", ".join(SUM_COLUMNS)  # fixed column names, no runtime value
    found = pl.from_arrow(
        con.sql(
            f"select minute, {cols} from minute_offload where cdn is null order by minute"  # noqa: S608
        ).to_arrow_table()
    )
    assert isinstance(found, pl.DataFrame)
    found = found.with_columns(
        # Whatever zone name the engine reports (UTC, Etc/UTC), join on one.
        pl.col("minute").dt.cast_time_unit("us").dt.convert_time_zone("UTC"),
        *[pl.col(c).cast(pl.Float64) for c in SUM_COLUMNS],
    )
    grid = pl.DataFrame(
        {"minute": pl.datetime_range(_utc(start), _utc(end) - MINUTE, "1m", eager=True)}
    ).with_columns(pl.col("minute").dt.cast_time_unit("us").dt.convert_time_zone("UTC"))
    if end <= start:
        grid = grid.clear()
    series = grid.join(found, on="minute", how="full", coalesce=True).sort("minute")
    series = series.with_columns([pl.col(c).fill_null(0.0) for c in SUM_COLUMNS])
    return with_ratios(series)


def with_ratios(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with request_offload and byte_offload derived from its sums."""
    return frame.with_columns(
        request_offload=pl.when(pl.col("cacheable_requests") > 0).then(
            1 - pl.col("origin_requests") / pl.col("cacheable_requests")
        ),
        byte_offload=pl.when(pl.col("cacheable_bytes") > 0).then(
            pl.col("offloaded_bytes") / pl.col("cacheable_bytes")
        ),
    )


def cdn_share_series(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per minute and CDN: requests, request offload, and the CDN's share of the minute."""
    rows = con.execute(
        "select minute, cdn, requests, request_offload from minute_offload"
        " where cdn is not null order by minute, cdn"
    ).fetchall()
    totals: dict[datetime, float] = {}
    for minute, _, requests, _ in rows:
        totals[minute] = totals.get(minute, 0.0) + (requests or 0.0)
    return [
        {
            "minute": iso(m),
            "cdn": c,
            "requests": r,
            "share": _ratio(r or 0.0, totals[m]),
            "request_offload": o,
        }
        for m, c, r, o in rows
    ]


def peaks(series: pl.DataFrame) -> dict[str, Any]:
    """Busiest minute by viewer requests and by origin requests (mean rate over the minute)."""
    out: dict[str, Any] = {}
    for key, column in (("requests", "requests"), ("origin_requests", "origin_requests")):
        top = series.filter(pl.col(column) > 0).sort(column, descending=True).head(1)
        if top.height == 0:
            out[key] = None
            continue
        row = top.row(0, named=True)
        out[key] = {"minute": iso(row["minute"]), "per_s": row[column] / 60.0}
    return out


def load_events(path: str | Path) -> list[dict[str, Any]]:
    """Named events from a JSON file: a list, or an object with `timeline` or `events`.

    Each event needs a name (`event` or `name`) and an ISO 8601 `time` (UTC when it has
    no offset); `kind` is optional. The generator's `match.json` is accepted as it is.

    Raises:
        ValueError: the file is not valid JSON or an event lacks a name or a valid time.
    """
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read events from {path}: {exc}") from None
    items = doc.get("timeline", doc.get("events")) if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a list of events or an object with 'timeline'")
    events = []
    for n, item in enumerate(items):
        name = item.get("event", item.get("name")) if isinstance(item, dict) else None
        text = item.get("time") if isinstance(item, dict) else None
        try:
            when = _utc(datetime.fromisoformat(str(text).replace("Z", "+00:00")))
        except ValueError:
            when = None
        if not isinstance(name, str) or not name or when is None:
            raise ValueError(f"{path}: event {n} needs a name and an ISO 8601 time")
        kind = item.get("kind")
        events.append({"name": name, "kind": kind if isinstance(kind, str) else None, "time": when})
    return sorted(events, key=lambda e: e["time"])


def mark_spikes(series: pl.DataFrame, rule: SpikeRule = SpikeRule()) -> pl.DataFrame:
    """`series` (from `minute_series`) with its `baseline` requests and a boolean `spike`."""
    return series.with_columns(
        baseline=pl.col("requests").rolling_median(
            rule.baseline_minutes, center=True, min_samples=1
        )
    ).with_columns(
        spike=(pl.col("requests") >= rule.ratio * pl.col("baseline"))
        & (
            pl.col("requests") - pl.col("baseline")
            >= rule.min_excess_sd * pl.col("baseline").sqrt()
        )
        & (pl.col("requests") > 0)
    )


def _sums(frame: pl.DataFrame) -> dict[str, float]:
    return {c: float(frame[c].sum() or 0.0) for c in SUM_COLUMNS}


def detect_spikes(
    marked: pl.DataFrame, events: list[dict[str, Any]], rule: SpikeRule = SpikeRule()
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Spikes of `marked` (from `mark_spikes`) and offload inside versus outside them.

    Returns:
        (spikes, summary). Each spike has start, end (exclusive), minutes, peak minute,
        peak and baseline requests/s, the peak's ratio to its baseline, request offload,
        origin requests and origin requests/s during the spike, and the names of events
        from one minute before its start to its end. The summary compares request offload
        in spike minutes with the other minutes.
    """
    marked = marked.with_columns(
        episode=(pl.col("spike") != pl.col("spike").shift(1, fill_value=False)).cum_sum()
    )
    spikes = []
    for _, group in marked.filter(pl.col("spike")).group_by("episode", maintain_order=True):
        first, last = group["minute"].min(), group["minute"].max()
        assert isinstance(first, datetime) and isinstance(last, datetime)
        top = group.sort("requests", descending=True).row(0, named=True)
        sums = _sums(group)
        names = [e["name"] for e in events if first - MINUTE <= e["time"] < last + MINUTE]
        spikes.append(
            {
                "start": iso(first),
                "end": iso(last + MINUTE),
                "minutes": group.height,
                "peak_minute": iso(top["minute"]),
                "peak_requests_per_s": top["requests"] / 60.0,
                "baseline_requests_per_s": top["baseline"] / 60.0,
                "peak_ratio": _ratio(top["requests"], top["baseline"]),
                "requests": sums["requests"],
                "cacheable_requests": sums["cacheable_requests"],
                "origin_requests": sums["origin_requests"],
                "origin_requests_per_s": sums["origin_requests"] / (60.0 * group.height),
                "request_offload": _offload(sums),
                "events": names,
            }
        )
    inside, outside = _sums(marked.filter(pl.col("spike"))), _sums(marked.filter(~pl.col("spike")))
    summary = {
        "spike_minutes": int(marked["spike"].sum()) if marked.height else 0,
        "offload_in_spikes": _offload(inside),
        "offload_elsewhere": _offload(outside),
        "rule": {
            "ratio": rule.ratio,
            "baseline_minutes": rule.baseline_minutes,
            "min_excess_sd": rule.min_excess_sd,
        },
    }
    return spikes, summary


def _offload(sums: dict[str, float]) -> float | None:
    ratio = _ratio(sums["origin_requests"], sums["cacheable_requests"])
    return None if ratio is None else 1 - ratio


def series_rows(series: pl.DataFrame) -> list[dict[str, Any]]:
    """`series` as JSON-ready rows (ISO minutes, finite numbers or null)."""
    rows = []
    for row in series.iter_rows(named=True):
        clean = {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in row.items()
        }
        clean["minute"] = iso(row["minute"])
        rows.append(clean)
    return rows
