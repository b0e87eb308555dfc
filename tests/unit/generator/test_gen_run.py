"""End-to-end generation: files on disk, match.json ground truth, determinism, bounded chunks."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from cdn_offload.generator import GeneratorConfig, generate, iter_intended
from cdn_offload.generator.problems import PROBLEMS

pytestmark = pytest.mark.unit
CONFIG = GeneratorConfig(rows=40_000, seed=11, duration_min=90, chunk_rows=15_000, clients=3_000)


@pytest.fixture(scope="module")
def match(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("match")
    generate(CONFIG, out)
    return out, json.loads((out / "match.json").read_text())


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_files_on_disk_match_the_document(match: tuple[Path, dict]) -> None:
    root, doc = match
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*.gz")}
    assert on_disk == {f["path"] for f in doc["files"]}
    assert not list(root.rglob("*.part"))
    assert sum(f["rows"] for f in doc["files"]) == CONFIG.rows == doc["intended"]["rows"]
    for f in doc["files"]:
        assert f["path"].startswith(f["cdn"] + "/")
        assert (root / f["path"]).stat().st_size == f["bytes"]
    per_cdn_hours = pl.DataFrame(doc["files"]).group_by("cdn", "hour").len()
    assert (per_cdn_hours["len"] == 1).all()  # one file per CDN per hour


def test_document_holds_parameters_timeline_and_problems(match: tuple[Path, dict]) -> None:
    _, doc = match
    assert doc["parameters"]["rows"] == CONFIG.rows and doc["parameters"]["seed"] == CONFIG.seed
    assert doc["parameters"]["cdns"] == list(CONFIG.cdns)
    events = [e["event"] for e in doc["timeline"]]
    assert events[0] == "stream_start" and "toss" in events and "innings_break" in events
    assert [p["id"] for p in doc["planted_problems"]] == [p.id for p in PROBLEMS]
    by_id = {p["id"]: p for p in doc["planted_problems"]}
    assert all(p["planted"] for p in by_id.values())
    mid = by_id["variant_cache_key_midmatch"]
    assert mid["cdns"] == ["cloudflare"]
    assert mid["windows"][0]["from_event"] == "cdn_config_push"
    assert mid["windows"][0]["to_event"] == "cdn_config_rollback"
    assert by_id["static_js_outlier"]["cdns"] == ["fastly"]
    errors = by_id["live_stats_errors"]
    assert len(errors["windows"]) == 7 and all(
        w["from_event"].startswith("wicket_2_") for w in errors["windows"]
    )
    for problem in by_id.values():
        assert problem["expected"]["affected"]["request_offload"] < 0.6, problem["id"]
        for name, healthy in problem["expected"]["lookalikes"].items():
            assert healthy["request_offload"] > 0.9, (problem["id"], name)


def test_same_seed_writes_identical_bytes(match: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = match
    generate(CONFIG, tmp_path)
    assert _digests(tmp_path) == _digests(root)


def test_intended_rows_equal_the_counts_written(match: tuple[Path, dict]) -> None:
    _, doc = match
    rows = pl.concat(list(iter_intended(CONFIG)))
    assert rows.height == CONFIG.rows
    assert rows["request_id"].n_unique() == rows.height
    got: dict[str, dict[str, int]] = {}
    for cdn, status, n in rows.group_by("cdn", "cache_status").len().iter_rows():
        got.setdefault(cdn, {})[status] = n
    assert got == doc["intended"]["cache_status_by_cdn"]


def test_existing_match_is_not_overwritten_without_replace(
    match: tuple[Path, dict], tmp_path: Path
) -> None:
    small = GeneratorConfig(rows=500, seed=1, duration_min=30, clients=100)
    generate(small, tmp_path)
    with pytest.raises(FileExistsError, match="already holds a generated match"):
        generate(small, tmp_path)
    (tmp_path / "cloudfront" / "stale.gz").write_bytes(b"old")
    summary = generate(
        GeneratorConfig(rows=500, seed=2, duration_min=30, clients=100), tmp_path, replace=True
    )
    assert not (tmp_path / "cloudfront" / "stale.gz").exists()
    assert {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.gz")} == {
        f.path for f in summary.files
    }


def test_zero_rows_writes_only_the_document(tmp_path: Path) -> None:
    summary = generate(GeneratorConfig(rows=0), tmp_path)
    assert summary.rows == 0 and summary.files == []
    assert json.loads((tmp_path / "match.json").read_text())["intended"]["rows"] == 0
