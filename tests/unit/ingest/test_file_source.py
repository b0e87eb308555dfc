"""File ingest end to end on the real-shaped samples: nothing lost, nothing duplicated."""

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from ingest.config import load_settings
from ingest.file_source import ingest_files

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "sample_logs"


def line_count(path: Path) -> int:
    data = path.read_bytes()
    text = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return sum(1 for line in text.splitlines() if line.strip() and not line.startswith(b"#"))


def samples(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    shutil.copytree(SAMPLES, src, ignore=shutil.ignore_patterns("*.json", "*.md"))
    return src


def raw_rows(out: Path) -> int:
    return ds.dataset(out / "raw", format="parquet", partitioning="hive").count_rows()


def quarantine_rows(out: Path) -> int:
    q = out / "quarantine"
    return ds.dataset(q, format="parquet").count_rows() if q.exists() else 0


def test_every_sample_line_is_written_or_quarantined(tmp_path):
    src = samples(tmp_path)
    out = tmp_path / "data"
    summary = ingest_files([str(src)], load_settings(out=str(out)))
    expected = sum(line_count(p) for p in src.rglob("*") if p.is_file())
    assert summary.failed_inputs == []
    assert summary.lines_read == expected
    assert summary.rows_written + summary.rows_quarantined == expected
    assert summary.rows_quarantined > 0  # every vendor ships a malformed.log
    assert raw_rows(out) == summary.rows_written
    assert quarantine_rows(out) == summary.rows_quarantined
    assert set(summary.by_format) == {
        "akamai_ds2",
        "azure_front_door",
        "cloudflare_logpush",
        "cloudfront_standard",
        "cloudfront_realtime",
        "fastly_json",
        "gcp_cdn",
        "nginx",
        "varnish",
    }


def test_ingesting_twice_does_not_duplicate_a_row(tmp_path):
    src = samples(tmp_path)
    out = tmp_path / "data"
    first = ingest_files([str(src)], load_settings(out=str(out)))
    second = ingest_files([str(src)], load_settings(out=str(out)))
    assert first.as_json() == second.as_json()
    assert raw_rows(out) == first.rows_written
    assert quarantine_rows(out) == first.rows_quarantined


def test_renamed_or_recompressed_input_is_the_same_rows_once(tmp_path):
    out = tmp_path / "data"
    log = SAMPLES / "cloudfront" / "live_match.log"
    (tmp_path / "a").mkdir()
    shutil.copy(log, tmp_path / "a" / "first.log")
    shutil.copy(log, tmp_path / "a" / "copy-of-first.log")
    summary = ingest_files([str(tmp_path / "a")], load_settings(out=str(out)))
    assert raw_rows(out) == summary.rows_written // 2


def test_inputs_that_are_not_logs_are_reported_by_name(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "fake.log.gz").write_bytes(b"plain text, not gzip\n")
    (tmp_path / "in" / "image.log").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    (tmp_path / "in" / "notes.txt").write_text("hello\nworld\n")
    good = tmp_path / "in" / "good.log"
    shutil.copy(SAMPLES / "cloudflare" / "live_match.log", good)
    summary = ingest_files([str(tmp_path / "in")], load_settings(out=str(tmp_path / "data")))
    failed = {Path(f["file"]).name: f["reason"] for f in summary.failed_inputs}
    assert failed == {
        "fake.log.gz": "bad_compression",
        "image.log": "not_a_log",
        "notes.txt": "unknown_format",
    }
    assert summary.rows_written == line_count(good)


def test_bad_lines_keep_source_position_and_bytes(tmp_path):
    src = tmp_path / "in.log"
    lines = (SAMPLES / "cloudflare" / "live_match.log").read_bytes().splitlines(keepends=True)
    src.write_bytes(
        lines[0] + b'{"EdgeStartTimestamp": \xff\xfe broken\n' + lines[1] + b"\x00\x01\x02\n"
    )
    out = tmp_path / "data"
    summary = ingest_files([str(src)], load_settings(out=str(out)))
    assert (summary.rows_written, summary.rows_quarantined) == (2, 2)
    rejects = ds.dataset(out / "quarantine", format="parquet").to_table().to_pylist()
    by_line = {r["_source_line"]: r for r in rejects}
    assert by_line[2]["reason_code"] == "invalid_utf8"
    assert by_line[2]["raw"].startswith(b'{"EdgeStartTimestamp": \xff')
    assert by_line[4]["reason_code"] == "binary_garbage"
    assert all(r["_source_file"] == str(src) for r in rejects)


def test_cli_json_summary_and_exit_status(tmp_path):
    src = samples(tmp_path)
    (src / "broken.gz").write_bytes(b"nope")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cdn_offload",
            "ingest",
            "files",
            str(src),
            "--out",
            str(tmp_path / "d"),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)
    assert result["rows_written"] + result["rows_quarantined"] == result["lines_read"]
    assert [f["reason"] for f in result["failed_inputs"]] == ["bad_compression"]
    # The batch path always runs the data-quality suite over what it wrote, and stores it.
    assert result["validation"].split(" ")[0] in {"passed", "failed"}
    assert (tmp_path / "d" / "quality" / "latest.json").exists()


@pytest.mark.parametrize("bad", ["--format nope", "--client-ip hash"])
def test_cli_bad_settings_name_the_setting(tmp_path, bad):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cdn_offload",
            "ingest",
            "files",
            str(SAMPLES),
            "--out",
            str(tmp_path),
            *bad.split(),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 2
    assert "configuration error" in proc.stderr


def test_files_parsed_in_pieces_land_in_deterministic_files(tmp_path, monkeypatch):
    """Small parse pieces are gathered into files of `chunk_bytes` input: the same rows
    as one piece, the same file names on every run."""
    import ingest.file_source as file_source

    sample = (SAMPLES / "cloudfront" / "live_match.log").read_bytes().splitlines(keepends=True)
    header = [line for line in sample if line.startswith(b"#")]
    body = [line for line in sample if not line.startswith(b"#")]
    src = tmp_path / "big.log"
    src.write_bytes(b"".join(header + body * 20))  # ~240 KB: several 64 KiB files
    whole = ingest_files([str(src)], load_settings(out=str(tmp_path / "whole")))
    monkeypatch.setattr(file_source, "PARSE_BYTES", 1 << 12)
    settings = load_settings(out=str(tmp_path / "pieces"), chunk_bytes=1 << 16)
    pieces = ingest_files([str(src)], settings)
    names = sorted(p.name for p in (tmp_path / "pieces").rglob("*.parquet"))
    again = ingest_files([str(src)], settings)
    assert pieces.as_json() == again.as_json()
    assert pieces.files_written > 1
    assert {**pieces.as_json(), "files_written": 1} == whole.as_json()
    assert names == sorted(p.name for p in (tmp_path / "pieces").rglob("*.parquet"))
    assert raw_rows(tmp_path / "pieces") == whole.rows_written
    assert quarantine_rows(tmp_path / "pieces") == whole.rows_quarantined
