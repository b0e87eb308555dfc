"""Data directories for the dashboard tests, built through the real generator and ingest.

`build_match_data` generates a live match, ingests it with `ingest_files`, adds rows
whose path, host and POP are hostile (HTML, markdown) and that are flagged, so every
page has to show them, and builds the minute rollups.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow.dataset as ds

from cdn_offload.generator import GeneratorConfig, generate
from ingest.config import load_settings as load_ingest_settings
from ingest.file_source import ingest_files
from ingest.storage import resolve
from tests.unit.transforms.offload_builders import row, write_raw
from transforms import offload, rollups
from transforms.config import load_settings

EVIL_PATH = "/<script>alert(1)</script>"
EVIL_MARKDOWN_PATH = "/**bold**/[click](javascript:alert(2))"
EVIL_HOST = "**evil-host**"
EVIL_POP = "<b>POP</b>"
EVIL_STRINGS = ("<script>", "**bold**", "evil-host", "<b>POP", "javascript:")
MATCH_CDNS = ("cloudfront", "fastly", "akamai", "cloudflare")


def _event_times(data_dir: Path) -> pl.Series:
    table = ds.dataset(str(data_dir / "raw"), format="parquet").to_table(columns=["event_time"])
    return pl.from_arrow(table)["event_time"]  # type: ignore[index]


def newest_event(data_dir: Path) -> datetime:
    """The newest event_time in the raw data, read independently of the dashboard."""
    newest = _event_times(data_dir).max()
    assert isinstance(newest, datetime)
    return newest.astimezone(UTC)


def whole_window(data_dir: Path) -> offload.Window:
    """First to last whole minute of the data: the default window of Explore and Post-match."""
    first = _event_times(data_dir).min()
    assert isinstance(first, datetime)
    end = newest_event(data_dir).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return offload.Window(first.astimezone(UTC).replace(second=0, microsecond=0), end)


def _hostile_rows(end: datetime) -> list[dict]:
    """Two flagged templates (every request a MISS) in the last minutes of the match."""
    rows = []
    for n, path in enumerate([EVIL_PATH] * 1300 + [EVIL_MARKDOWN_PATH] * 1200):
        at = end - timedelta(minutes=10) + timedelta(milliseconds=200 * n)
        rows.append(
            row(
                path=path,
                cdn="fastly",
                cache_status="MISS",
                event_time=at,
                host=EVIL_HOST,
                pop=EVIL_POP,
                source_format="fastly_json",
            )
        )
    return rows


def build_match_data(root: Path, rows: int = 100_000) -> Path:
    """A data directory with a generated, ingested match, hostile rows and rollups."""
    logs, data = root / "logs", root / "data"
    generate(GeneratorConfig(rows=rows, cdns=MATCH_CDNS, duration_min=240.0), str(logs))
    ingest_files([str(logs / cdn) for cdn in MATCH_CDNS], load_ingest_settings(out=str(data)))
    write_raw(data, _hostile_rows(newest_event(data)), name="hostile.parquet")
    rollups.rebuild_rollups(resolve(str(data)), load_settings())
    return data


def build_gappy_data(root: Path) -> Path:
    """Raw rows at 10:00 and 14:00 only (no rollups): a window in between has no data."""
    day = datetime(2025, 3, 9, tzinfo=UTC)
    rows = [
        row(event_time=day + timedelta(hours=h, seconds=s), cache_status=status)
        for h in (10, 14)
        for s in range(120)
        for status in ("HIT", "MISS")
    ]
    write_raw(root, rows)
    return root
