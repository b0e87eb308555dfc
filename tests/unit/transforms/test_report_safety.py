"""The report with hostile strings, an empty window and no data at all.

Paths, CDN names, event names, quarantined file names and validation samples are
attacker-controlled: the HTML must show them as text (no tag, no event handler) and
the CSV twins must not let a spreadsheet run them as formulas.
"""

from __future__ import annotations

import csv
import json
import os
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from cdn_offload.cli import main
from ingest.config import IngestSettings
from ingest.file_source import ingest_files
from tests.unit.transforms.offload_builders import T0, hits_and_misses, write_raw

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[3]
SCRIPT = "/<script>alert(1)</script>"
IMG = '/"><img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://evil.example","click")'
EVIL_CDN = '"><svg onload=alert(2)>'
HOSTILE = [SCRIPT, IMG, FORMULA, EVIL_CDN]
WINDOW = ("--from", T0.isoformat(), "--to", (T0 + timedelta(minutes=10)).isoformat())


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hostile")
    data = root / "data"
    rows = hits_and_misses(SCRIPT, "cloudfront", 10, 90)
    rows += hits_and_misses(IMG, "fastly", 20, 80, host="@evil.example")
    rows += hits_and_misses("/" + FORMULA, FORMULA, 5, 95, pop="+1-2")
    rows += hits_and_misses("/live/ok/seg_1.m4s", EVIL_CDN, 300, 2)
    write_raw(data, rows)
    # A quarantined file whose name is markup and a formula.
    odd = root / "=cmd()<img src=x onerror=alert(3)>.log"
    odd.write_text("#Version: 1.0\nnot a log line at all\n", encoding="utf-8")
    # Given relative, the quarantine's `source` is the bare name, starting with '='.
    here = os.getcwd()
    os.chdir(root)
    try:
        ingest_files([odd.name], IngestSettings(out=str(data), format="cloudfront_standard"))
    finally:
        os.chdir(here)
    quality = data / "quality"
    quality.mkdir()
    (quality / "latest.json").write_text(
        json.dumps(
            {
                "run_id": "20250301T000000000Z",
                "validated_at": "2025-03-01T00:00:00Z",
                "window": {"start": None, "end": None},
                "rows": 1,
                "partitions": 1,
                "success": False,
                "failed_checks": ["path_starts_with_slash"],
                "checks": [
                    {
                        "name": "path_starts_with_slash",
                        "success": False,
                        "unexpected_count": 1,
                        "unexpected_percent": 100.0,
                        "sample_unexpected": [{"value": "<script>alert(4)</script>", "count": 1}],
                        "errors": [],
                    }
                ],
            }
        )
    )
    events = root / "events.json"
    events.write_text(
        json.dumps(
            [
                {
                    "name": "<script>alert(5)</script>",
                    "time": (T0 + timedelta(seconds=5)).isoformat(),
                },
                {"name": "@SUM(1+1)", "time": (T0 + timedelta(seconds=65)).isoformat()},
            ]
        )
    )
    out = root / "out"
    code = main(
        [
            "report",
            *("--data", str(data), *WINDOW, "--min-requests", "50"),
            *(
                "--out",
                str(out / "r.html"),
                "--json",
                str(out / "r.json"),
                "--csv",
                str(out / "csv"),
            ),
            *("--events", str(events), "--peak-concurrency", "100000"),
        ]
    )
    return {"code": code, "out": out, "html": (out / "r.html").read_text(encoding="utf-8")}


class _Page(HTMLParser):
    """Collects tags, attributes and the visible text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_report_is_written(hostile: dict[str, Any]) -> None:
    assert hostile["code"] == 0
    doc = json.loads((hostile["out"] / "r.json").read_text())
    assert {f["path_template"] for f in doc["flagged"]["rows"]} >= {SCRIPT, IMG}


def test_hostile_strings_are_text_not_markup(hostile: dict[str, Any]) -> None:
    page = _Page()
    page.feed(hostile["html"])
    text = "".join(page.text)

    assert "script" not in page.tags and "img" not in page.tags
    assert not [name for name, _ in page.attrs if name.startswith("on")]
    for value in (SCRIPT, IMG, EVIL_CDN, "<script>alert(4)</script>", "<script>alert(5)</script>"):
        assert value in text, value
    assert "onerror=alert(3)" in text


def _cells(folder: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted(folder.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as fh:
            found += [(path.name, cell) for row in csv.reader(fh) for cell in row]
    return found


def test_csv_cells_cannot_run_as_formulas(hostile: dict[str, Any]) -> None:
    cells = _cells(hostile["out"] / "csv")
    texts = [c for _, c in cells]

    risky = [(f, c) for f, c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert not risky
    dashes = [(f, c) for f, c in cells if c.startswith("-")]
    for name, cell in dashes:
        float(cell)  # only negative numbers may start with '-'
        assert name
    assert f"'{FORMULA}" in texts  # the CDN name, in cdns.csv and cdn_share.csv
    assert "'+1-2" in texts  # the POP, in pops.csv
    assert "'@SUM(1+1)" in texts  # the event name
    assert any(c.startswith("'=cmd()") for c in texts)  # the quarantined file


def test_empty_window_is_stated_and_still_a_full_report(
    tmp_path: Path, hostile: dict[str, Any]
) -> None:
    data = hostile["out"].parent / "data"
    out = tmp_path / "empty.html"

    code = main(
        [
            "report",
            *("--data", str(data), "--from", "2030-01-01T00:00Z", "--to", "2030-01-01T01:00Z"),
            *(
                "--out",
                str(out),
                "--json",
                str(tmp_path / "empty.json"),
                "--csv",
                str(tmp_path / "csv"),
            ),
        ]
    )

    doc = json.loads((tmp_path / "empty.json").read_text())
    html = out.read_text(encoding="utf-8")
    assert code == 0
    assert doc["empty"] is True and doc["empty_kind"] == "no_requests"
    assert "This window holds no data" in html
    assert html.rstrip().endswith("</html>")
    assert doc["headline"]["request_offload"] is None
    assert doc["flagged"]["rows"] == []
    assert all(m["requests"] == 0 for m in doc["timeline"]["minutes"])
    assert (tmp_path / "csv" / "flagged.csv").read_text().startswith("rank,path_template,cdn")


def test_missing_data_writes_a_report_and_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "none.html"

    code = main(["report", "--data", str(tmp_path / "nothing"), "--out", str(out)])

    assert code == 1
    assert "This window holds no data" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(
            ["--from", "2025-03-09T10:00Z", "--to", "2025-03-09T09:00Z"], id="from-after-to"
        ),
        pytest.param(["--events", "/nonexistent/events.json"], id="missing-events-file"),
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, args: list[str]) -> None:
    code = main(["report", "--data", str(tmp_path), "--out", str(tmp_path / "r.html"), *args])

    assert code == 2
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--spike-ratio", "0.9"], id="spike-ratio-not-above-1"),
        pytest.param(["--peak-concurrency", "0"], id="peak-concurrency-zero"),
        pytest.param(["--from", "yesterday"], id="bad-time"),
    ],
)
def test_bad_option_values_are_refused_by_the_parser(tmp_path: Path, args: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", "--data", str(tmp_path), "--out", str(tmp_path / "r.html"), *args])

    assert exc.value.code == 2
