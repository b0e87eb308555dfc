"""`cdn-offload report` on a generated match: figures equal `analyze`, every section, twins.

One match (150k requests, four CDNs) is generated and ingested once per module through
the real path (generator files -> `ingest_files` -> Parquet), validated once so the
data-quality section has a stored result, plus one malformed sample file so it has
quarantined records.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from cdn_offload.cli import main
from cdn_offload.generator import GeneratorConfig, generate
from ingest.config import IngestSettings
from ingest.file_source import ingest_files
from ingest.storage import resolve
from transforms import offload, reports
from transforms import report_timeline as tl
from transforms.config import load_settings
from transforms.report_quality import covers

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[3]
CONFIG = GeneratorConfig(rows=150_000, seed=42)
MATCH_FROM, MATCH_TO = "2025-03-09T08:30:00Z", "2025-03-09T12:30:00Z"
SECTION_IDS = [
    "headline",
    "timeline",
    "cdns",
    "flagged",
    "snapshots",
    "capacity",
    "alerts",
    "data-quality",
]
OPTIONAL = [("snapshots",), ("capacity",), ("alerts",), ("cdns", "comparison")]
SCORE_API = "/api/v1/match/{id}/score"
PEAK = 2_000_000
VALIDATED = (datetime(2025, 3, 9, 9, 30, tzinfo=UTC), datetime(2025, 3, 9, 10, 30, tzinfo=UTC))


@pytest.fixture(scope="module")
def match(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("report")
    generated, data = root / "generated", root / "data"
    generate(CONFIG, generated)
    inputs = [str(p) for p in sorted(generated.iterdir()) if p.is_dir()]
    inputs.append(str(REPO / "sample_logs" / "cloudfront" / "malformed.log"))
    ingest_files(inputs, IngestSettings(out=str(data)))
    from transforms.quality import store_validation, validate

    # One hour keeps the suite quick; the report then says it does not cover its window.
    store_validation(str(data), validate(str(data), *VALIDATED))
    out = root / "out"
    code = main(
        [
            "report",
            *("--data", str(data), "--from", MATCH_FROM, "--to", MATCH_TO),
            *("--out", str(out / "report.html"), "--json", str(out / "report.json")),
            *("--csv", str(out / "csv"), "--events", str(generated / "match.json")),
            *("--update-rollups", "--peak-concurrency", str(PEAK)),
        ]
    )
    return {
        "code": code,
        "data": data,
        "out": out,
        "truth": json.loads((generated / "match.json").read_text()),
        "doc": json.loads((out / "report.json").read_text()),
        "html": (out / "report.html").read_text(encoding="utf-8"),
    }


def _window(start: str, end: str) -> offload.Window:
    return offload.Window.aligned(datetime.fromisoformat(start), datetime.fromisoformat(end))


def test_command_writes_html_json_and_csv(match: dict[str, Any]) -> None:
    assert match["code"] == 0
    assert (match["out"] / "report.html").stat().st_size > 10_000
    assert match["doc"]["report"]["format_version"] == reports.FORMAT_VERSION
    assert not match["doc"]["empty"]


def test_report_figures_equal_analyze_for_the_same_window(match: dict[str, Any]) -> None:
    settings = load_settings()
    analysis = offload.analyze(resolve(str(match["data"])), settings, _window(MATCH_FROM, MATCH_TO))
    doc = match["doc"]

    assert doc["analysis"] == analysis
    assert doc["window"] == analysis["window"]
    for key in ("request_offload", "byte_offload", "origin_requests", "origin_bytes", "requests"):
        assert doc["headline"][key] == analysis["overall"][key]
    assert [r["cdn"] for r in doc["cdns"]["rows"]] == [r["cdn"] for r in analysis["by_cdn"]]
    for mine, theirs in zip(doc["cdns"]["rows"], analysis["by_cdn"], strict=True):
        assert {k: mine[k] for k in theirs} == theirs
    assert [(f["path_template"], f["cdn"]) for f in doc["flagged"]["rows"]] == [
        (f["path_template"], f["cdn"]) for f in analysis["flagged"]
    ]


def test_sub_window_figures_equal_analyze(match: dict[str, Any]) -> None:
    data, settings = resolve(str(match["data"])), load_settings()
    window = _window("2025-03-09T10:30:00Z", "2025-03-09T11:15:00Z")

    doc = reports.build_report(data, settings, window)

    assert doc["analysis"] == offload.analyze(data, settings, window)
    assert len(doc["timeline"]["minutes"]) == 45


def test_timeline_minutes_add_up_to_the_window(match: dict[str, Any]) -> None:
    doc = match["doc"]
    minutes = doc["timeline"]["minutes"]
    overall = doc["analysis"]["overall"]

    assert len(minutes) == 240
    assert sum(m["requests"] for m in minutes) == pytest.approx(overall["requests"])
    assert sum(m["origin_requests"] for m in minutes) == pytest.approx(overall["origin_requests"])
    peak = max(minutes, key=lambda m: m["requests"])
    assert doc["headline"]["peak_requests"] == {
        "minute": peak["minute"],
        "per_s": pytest.approx(peak["requests"] / 60),
    }


def test_spikes_are_found_at_the_planted_wickets(match: dict[str, Any]) -> None:
    spikes = match["doc"]["timeline"]["spikes"]
    wickets = [e for e in match["truth"]["timeline"] if e["kind"] == "wicket"]
    explained = {name for s in spikes for name in s["events"]}

    found = [w["event"] for w in wickets if w["event"] in explained]
    unexplained = [s for s in spikes if not s["events"]]
    assert len(found) >= len(wickets) - 2, found
    assert len(unexplained) <= 1, unexplained


def test_offload_through_spikes_is_recomputed_from_the_minutes(match: dict[str, Any]) -> None:
    doc = match["doc"]["timeline"]
    inside = [m for m in doc["minutes"] if m["spike"]]
    origin = sum(m["origin_requests"] for m in inside)
    cacheable = sum(m["cacheable_requests"] for m in inside)

    assert (
        doc["spike_summary"]["spike_minutes"]
        == len(inside)
        == sum(s["minutes"] for s in doc["spikes"])
    )
    assert doc["spike_summary"]["offload_in_spikes"] == pytest.approx(1 - origin / cacheable)


def test_flags_are_ranked_by_origin_load_with_gain_and_evidence_slots(
    match: dict[str, Any],
) -> None:
    rows = match["doc"]["flagged"]["rows"]

    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0]["severity"] == "P1"
    assert {"evidence", "estimated_gain", "suggestions"} <= set(rows[0])


@pytest.mark.parametrize("path", OPTIONAL, ids=lambda p: ".".join(p))
def test_optional_sections_state_whether_they_are_available(
    match: dict[str, Any], path: tuple[str, ...]
) -> None:
    section: Any = match["doc"]
    for key in path:
        section = section[key]

    if section["available"]:
        assert "result" in section
    else:
        assert section["reason"]
        assert f"Not available: {section['reason']}" in match["html"]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("src", "href", "srcset", "action", "poster", "data") and value:
                self.links.append((tag, name, value))


def test_html_has_every_section(match: dict[str, Any]) -> None:
    parser = _Tags()
    parser.feed(match["html"])

    assert set(SECTION_IDS) <= parser.ids
    assert "svg" in parser.tags
    for text in ("Headline numbers", "Request offload", "Peak viewer requests/s", "wicket_2_7"):
        assert text in match["html"]


def test_html_is_self_contained(match: dict[str, Any]) -> None:
    parser = _Tags()
    parser.feed(match["html"])

    assert not {"script", "link", "img", "iframe", "object"} & parser.tags
    assert all(value.startswith("#") for _, _, value in parser.links), parser.links
    assert not re.search(r"@import|url\(", match["html"])


def test_data_quality_shows_validation_and_quarantine(match: dict[str, Any]) -> None:
    dq = match["doc"]["data_quality"]

    assert dq["validation"]["run_id"]
    assert dq["validation"]["window"] == {
        "start": "2025-03-09T09:30:00Z",
        "end": "2025-03-09T10:30:00Z",
    }
    assert dq["validation"]["covers_window"] is False
    assert "It does not cover this report's window" in match["html"]
    reasons = {q["reason_code"] for q in dq["quarantine"]}
    assert {"bad_timestamp", "bad_field_count"} <= reasons
    assert dq["quarantined_records"] == sum(q["records"] for q in dq["quarantine"])
    assert dq["validation"]["run_id"] in match["html"]
    assert "bad_timestamp" in match["html"]


def test_csv_twins_hold_the_json_figures(match: dict[str, Any]) -> None:
    folder = match["out"] / "csv"

    def read(name: str) -> list[dict[str, str]]:
        with open(folder / f"{name}.csv", newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))

    doc = match["doc"]
    (headline,) = read("headline")
    assert float(headline["request_offload"]) == doc["headline"]["request_offload"]
    assert headline["peak_requests_minute"] == doc["headline"]["peak_requests"]["minute"]
    assert len(read("timeline")) == len(doc["timeline"]["minutes"])
    assert [r["cdn"] for r in read("cdns")] == [r["cdn"] for r in doc["cdns"]["rows"]]
    assert [r["path_template"] for r in read("flagged")] == [
        f["path_template"] for f in doc["flagged"]["rows"]
    ]
    assert len(read("quarantine")) == len(doc["data_quality"]["quarantine"])
    optional = {
        "snapshots": doc["snapshots"],
        "capacity": doc["capacity"],
        "alerts": doc["alerts"],
        "cdn_comparison": doc["cdns"]["comparison"],
        "cdn_template_comparison": doc["cdns"]["comparison"],
    }
    for name, section in optional.items():
        assert (folder / f"{name}.csv").exists() == section["available"], name
    if doc["capacity"]["available"]:
        (total, *templates) = read("capacity")
        assert total["path_template"] == "(all templates)"
        assert len(templates) == len(doc["capacity"]["result"]["templates"])


def test_progress_reports_every_step(match: dict[str, Any]) -> None:
    seen: list[tuple[int, int, str]] = []

    reports.build_report(
        resolve(str(match["data"])),
        load_settings(),
        _window("2025-03-09T11:00:00Z", "2025-03-09T11:10:00Z"),
        events=tl.load_events(match["out"].parent / "generated" / "match.json"),
        progress=lambda done, total, label: seen.append((done, total, label)),
    )

    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    assert seen[-1][0] == seen[-1][1]
    assert all(d <= t for d, t, _ in seen)


def test_alert_replay_lists_what_would_have_fired(match: dict[str, Any]) -> None:
    alerts = match["doc"]["alerts"]
    if not alerts["available"]:
        pytest.skip(alerts["reason"])

    fired = [e for e in alerts["events"] if e["event"] == "firing"]
    assert alerts["rollups_fresh"] is True
    assert alerts["fired"] == len(fired) > 0
    assert SCORE_API in {e["template"] for e in fired}
    assert f"<strong>{alerts['fired']}</strong> fired" in match["html"]


@pytest.mark.parametrize(
    ("validated", "expected"),
    [
        pytest.param({"start": None, "end": None}, True, id="open"),
        pytest.param(
            {"start": "2025-03-09T08:00:00Z", "end": "2025-03-09T13:00:00Z"}, True, id="wider"
        ),
        pytest.param({"start": "2025-03-09T09:00:00Z", "end": None}, False, id="starts-late"),
        pytest.param({"start": None, "end": "2025-03-09T12:00:00Z"}, False, id="ends-early"),
    ],
)
def test_validation_window_coverage(validated: dict[str, Any], expected: bool) -> None:
    start, end = datetime(2025, 3, 9, 8, 30, tzinfo=UTC), datetime(2025, 3, 9, 12, 30, tzinfo=UTC)

    assert covers(validated, start, end) is expected


def test_flag_evidence_is_template_evidence_for_the_same_scope(match: dict[str, Any]) -> None:
    evidence = pytest.importorskip("transforms.evidence")
    top = match["doc"]["flagged"]["rows"][0]

    expected = evidence.template_evidence(
        resolve(str(match["data"])),
        load_settings(),
        _window(MATCH_FROM, MATCH_TO),
        top["path_template"],
        top["cdn"],
    )

    assert top["evidence"] == {k: v for k, v in expected.items() if k != "suggestions"}
    assert "Why the origin was contacted" in match["html"]


def test_suggestions_and_their_best_gain_are_shown(match: dict[str, Any]) -> None:
    rows = [r for r in match["doc"]["flagged"]["rows"] if r["suggestions"]]
    if not rows:
        pytest.skip("no suggestion rules fired (suggestions not part of this installation)")

    for r in rows:
        saved = [s["estimated_origin_requests_saved"] for s in r["suggestions"]]
        assert r["estimated_gain"]["origin_requests_saved"] == max(saved)
        for s in r["suggestions"]:
            assert s["code"] in match["html"]


def test_rollups_without_raw_rows_keep_figures_and_say_evidence_is_missing(
    match: dict[str, Any], tmp_path: Path
) -> None:
    import shutil

    shutil.copytree(match["data"] / "rollups", tmp_path / "data" / "rollups")
    out = tmp_path / "r.json"

    code = main(
        [
            "report",
            *("--data", str(tmp_path / "data"), "--from", MATCH_FROM, "--to", MATCH_TO),
            *("--source", "rollups", "--out", str(tmp_path / "r.html"), "--json", str(out)),
        ]
    )

    doc = json.loads(out.read_text())
    assert code == 0
    assert doc["analysis"]["overall"] == match["doc"]["analysis"]["overall"]
    assert doc["flagged"]["rows"]
    assert doc["flagged"]["evidence_available"] is False
    assert doc["flagged"]["evidence_reason"] in (tmp_path / "r.html").read_text()


def test_cdn_comparison_covers_the_same_cdns(match: dict[str, Any]) -> None:
    section = match["doc"]["cdns"]["comparison"]
    if not section["available"]:
        pytest.skip(section["reason"])

    by_cdn = section["result"]["by_cdn"]
    assert {r["cdn"] for r in by_cdn} == {r["cdn"] for r in match["doc"]["cdns"]["rows"]}
    for mine in match["doc"]["cdns"]["rows"]:
        theirs = next(r for r in by_cdn if r["cdn"] == mine["cdn"])
        assert theirs["request_offload"] == pytest.approx(mine["request_offload"])
    assert "Request offload per template and CDN" in match["html"]


def test_snapshot_candidates_and_capacity_are_shown(match: dict[str, Any]) -> None:
    doc = match["doc"]
    if not (doc["snapshots"]["available"] and doc["capacity"]["available"]):
        pytest.skip("snapshot candidates or capacity not part of this installation")

    assert SCORE_API in {c["path_template"] for c in doc["snapshots"]["result"]}
    assert "/api/v1/users/{uuid}/prefs" not in {
        c["path_template"] for c in doc["snapshots"]["result"]
    }
    capacity = doc["capacity"]["result"]
    assert capacity["peak_concurrency"] == PEAK
    assert f"At <strong>{PEAK:,}</strong> concurrent viewers" in match["html"]
