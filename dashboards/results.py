"""What the data layer hands to pages, and pure helpers on windows and freshness.

Nothing here queries; `dashboards.data` fills these and re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from transforms import offload

MINUTE = timedelta(minutes=1)
Window = offload.Window


@dataclass(frozen=True)
class Problem:
    """Why a view cannot be shown: a fixed title, the detail, and the command that fixes it."""

    title: str
    detail: str = ""
    fix: str = ""


@dataclass(frozen=True)
class Filters:
    """Explore filters; empty means everything."""

    cdns: tuple[str, ...] = ()
    pops: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    template_search: str | None = None
    path_template: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.cdns or self.pops or self.hosts or self.template_search) or (
            self.path_template is not None
        )


NO_FILTERS = Filters()


@dataclass(frozen=True)
class DataStatus:
    """What the data directory holds now; `version` changes whenever its files do."""

    data_uri: str
    raw_files: int = 0
    version: str = ""
    rollups_fresh: bool = False
    first_event: datetime | None = None
    newest_event: datetime | None = None
    by_cdn: pl.DataFrame = field(default_factory=pl.DataFrame)
    problem: Problem | None = None


@dataclass(frozen=True)
class Freshness:
    """Age of the newest record, overall and per CDN, against the stale limit."""

    newest: datetime | None
    age_s: float | None
    stale: bool
    by_cdn: pl.DataFrame


@dataclass
class SeriesView:
    """Per-minute figures of a window: overall (with spike minutes) and per CDN."""

    minutes: pl.DataFrame
    cdn_minutes: pl.DataFrame
    spikes: list[dict[str, Any]] | None


@dataclass
class WindowView:
    """Everything a page shows about one window and filter set."""

    report: dict[str, Any]
    headline: dict[str, Any]
    cdn_share: pl.DataFrame
    minutes: pl.DataFrame
    cdn_minutes: pl.DataFrame
    cache_mix: pl.DataFrame
    spikes: list[dict[str, Any]] | None

    @property
    def empty(self) -> bool:
        return not self.headline.get("requests")


def freshness(status: DataStatus, stale_after_s: float, now: datetime | None = None) -> Freshness:
    """How old the newest record is, overall and per CDN; stale beyond `stale_after_s`."""
    now = now or datetime.now(tz=UTC)
    if status.newest_event is None:
        return Freshness(None, None, True, pl.DataFrame())
    age = (now - status.newest_event).total_seconds()
    by_cdn = status.by_cdn.with_columns(
        age_s=(pl.lit(now) - pl.col("newest_event_time")).dt.total_milliseconds() / 1000.0
    ).with_columns(stale=pl.col("age_s") > stale_after_s)
    return Freshness(status.newest_event, age, age > stale_after_s, by_cdn.drop("rows"))


def live_windows(
    status: DataStatus, window_min: int, history_min: int
) -> tuple[offload.Window, offload.Window]:
    """(headline, history) windows ending at the newest complete minute of the data.

    The minute still being filled is left out, so rates are not diluted by it; when the
    data holds nothing else, that minute is used.
    """
    assert status.newest_event is not None and status.first_event is not None
    end = status.newest_event.replace(second=0, microsecond=0)
    if end <= status.first_event:
        end += MINUTE
    return (
        offload.Window(end - window_min * MINUTE, end),
        offload.Window(end - history_min * MINUTE, end),
    )


def window(start: datetime | None, end: datetime | None) -> offload.Window:
    """The minute-aligned window [start, end) (naive times are UTC)."""
    return offload.Window.aligned(start, end)


def extent(status: DataStatus) -> tuple[datetime, datetime]:
    """First and last whole minute covering the data (naive UTC, as time widgets want)."""
    assert status.first_event is not None and status.newest_event is not None
    first = status.first_event.replace(second=0, microsecond=0, tzinfo=None)
    last = status.newest_event.replace(second=0, microsecond=0, tzinfo=None) + MINUTE
    return first, last
