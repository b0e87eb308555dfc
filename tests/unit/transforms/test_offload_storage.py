"""Data directories that are not plain local paths, and data directories with nothing in them."""

from __future__ import annotations

import pyarrow.fs as pafs
import pytest

from ingest.storage import Location, resolve
from tests.unit.transforms.offload_builders import T0, hits_and_misses, write_raw
from transforms import offload, rollups
from transforms.config import load_settings
from transforms.errors import NoDataError

pytestmark = pytest.mark.unit


def _remote_like(root) -> Location:
    """A Location whose filesystem is not LocalFileSystem, so the Arrow-dataset path is used (as for S3)."""
    fs = pafs.SubTreeFileSystem(str(root), pafs.LocalFileSystem())
    return Location(fs, "data", "remote://data")


def test_object_store_path_gives_the_same_report_as_local(tmp_path) -> None:
    rows = hits_and_misses("/api/v1/match/1/score", "cloudfront", 30, 70)
    rows += hits_and_misses("/live/final/master.m3u8", "fastly", 95, 5)
    write_raw(tmp_path / "data", rows)
    settings = load_settings(min_requests=10)
    local = resolve(str(tmp_path / "data"))
    remote = _remote_like(tmp_path)

    from_raw = offload.analyze(remote, settings, source="raw")
    rollups.update_rollups(remote, settings)
    from_rollups = offload.analyze(remote, settings)

    assert from_rollups["window"]["source"] == "rollups"
    assert rollups.rollups_fresh(local, settings)
    expected = offload.analyze(local, settings, source="raw")
    for result in (from_raw, from_rollups):
        assert result["overall"] == pytest.approx(expected["overall"])
        assert result["flagged"] == expected["flagged"]


def test_empty_data_directory_is_no_data(tmp_path) -> None:
    (tmp_path / "raw").mkdir()

    with pytest.raises(NoDataError, match="cdn-offload ingest"):
        offload.analyze(resolve(str(tmp_path)), load_settings())


def test_rollups_requested_but_never_built(tmp_path) -> None:
    write_raw(tmp_path, hits_and_misses("/x", "fastly", 1, 1))

    with pytest.raises(NoDataError, match="rebuild-rollups"):
        offload.analyze(resolve(str(tmp_path)), load_settings(), source="rollups")


def test_window_without_data_reports_zeros_and_nulls(tmp_path) -> None:
    write_raw(tmp_path, hits_and_misses("/x/1", "fastly", 5, 5))
    later = offload.Window.aligned(T0.replace(hour=18), T0.replace(hour=19))

    result = offload.analyze(
        resolve(str(tmp_path)), load_settings(min_requests=1), later, source="raw"
    )

    assert result["window"]["from"] == "2024-03-10T18:00:00Z"
    assert result["window"]["seconds"] == 3600
    assert result["overall"]["requests"] == 0
    assert result["overall"]["request_offload"] is None
    assert result["by_cdn"] == result["flagged"] == result["templates"] == []
