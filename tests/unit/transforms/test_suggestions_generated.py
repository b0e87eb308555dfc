"""Suggestions on a generated match: each planted problem gets its code on the right
template and CDN, and nothing fires anywhere else (healthy look-alikes included).

The match (250,000 requests, four CDNs, cdn_offload.generator) is generated and
ingested once per session (tests/unit/transforms/suggestion_cases.py); its
`match.json` is the ground truth.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from ingest.storage import resolve
from tests.unit.transforms.suggestion_cases import (
    Match,
    copy_of,
    expected_cdn,
    generated_match,
    planted_for,
    template_matches,
)
from transforms import models, offload, rollups
from transforms.config import load_settings
from transforms.suggestions import suggest, suggestions_for

pytestmark = pytest.mark.unit
# Flags need 300 GET/HEAD requests in the window; rules judge CDN slices from 100.
SETTINGS = load_settings(min_requests=300)


@pytest.fixture(scope="module")
def match() -> Match:
    return generated_match()


@pytest.fixture(scope="module")
def report(match: Match) -> dict:
    return offload.analyze(resolve(str(match.data)), SETTINGS, offload.Window(), "raw")


@pytest.fixture(scope="module")
def everywhere(match: Match) -> list[dict]:
    """Suggestions for every template and template x CDN of the match, flagged or not."""
    return suggest(resolve(str(match.data)), SETTINGS, offload.Window())


def _window(problem: dict, index: int = 0) -> offload.Window:
    w = problem["windows"][index]
    return offload.Window.aligned(
        datetime.fromisoformat(w["from"].replace("Z", "+00:00")),
        datetime.fromisoformat(w["to"].replace("Z", "+00:00")),
    )


def _codes(suggestions: list[dict]) -> set[tuple[str, str | None]]:
    return {(s["code"], s["cdn"]) for s in suggestions}


def _problem(match: Match, problem_id: str) -> dict:
    return next(p for p in match.problems if p["id"] == problem_id)


CACHEABLE_PROBLEMS = [
    "score_cache_buster",
    "dash_manifest_ttl",
    "player_image_long_tail",
    "user_prefs_personal",
    "live_stats_errors",
    "static_js_outlier",
    "variant_cache_key_midmatch",
]


@pytest.mark.parametrize("problem_id", CACHEABLE_PROBLEMS)
def test_planted_problem_gets_its_code_on_the_right_template_and_cdn(
    match: Match, report: dict, problem_id: str
) -> None:
    problem = _problem(match, problem_id)
    flags = [
        f for f in report["flagged"] if template_matches(f["path_template"], problem["path_regex"])
    ]

    assert flags, f"{problem_id}: no flag on {problem['path_template']}"
    want = {(problem["code"], expected_cdn(match, problem))}
    for flag in flags:
        assert _codes(flag["suggestions"]) == want, (flag["path_template"], flag["cdn"])
        top = flag["suggestions"][0]
        assert top["action"]
        assert top["evidence"]["cacheable_requests"] > 0


def test_post_beacons_are_uncacheable_by_design(match: Match, report: dict) -> None:
    beacons = [
        t
        for t in report["non_cacheable_templates"]
        if template_matches(t["path_template"], match.regex_of("qos_beacon"))
    ]

    assert [t["methods"] for t in beacons] == ["POST"]
    assert _codes(beacons[0]["suggestions"]) == {("UNCACHEABLE_BY_DESIGN", None)}
    assert beacons[0]["suggestions"][0]["estimated_origin_requests_saved"] == 0


def test_nothing_fires_outside_the_planted_problems(match: Match, everywhere: list[dict]) -> None:
    """Every template and template x CDN with a suggestion carries a planted problem."""
    assert everywhere
    for scope in everywhere:
        problems = planted_for(match, scope["path_template"])
        assert problems, f"suggestion on healthy {scope['path_template']} {scope['cdn']}"
        for s in scope["suggestions"]:
            # A CDN slice of a problem every CDN has names its own CDN.
            allowed = {(p["code"], expected_cdn(match, p) or scope["cdn"]) for p in problems}
            assert (s["code"], s["cdn"]) in allowed, (scope["path_template"], scope["cdn"], s)
            # A CDN slice only gets suggestions when that CDN carries the problem.
            assert scope["cdn"] is None or any(scope["cdn"] in p["cdns"] for p in problems)


@pytest.mark.parametrize(
    "lookalike",
    [
        "commentary_api",
        "scorecard_api",
        "hls_variant",
        "hls_master",
        "team_logo",
        "ad_creative",
        "app_config_api",
        "static_css",
        "media_segment",
        "watch_page",
    ],
)
def test_healthy_lookalikes_stay_quiet(
    match: Match, everywhere: list[dict], lookalike: str
) -> None:
    regex = match.regex_of(lookalike)
    noisy = [
        (s["path_template"], s["cdn"])
        for s in everywhere
        if template_matches(s["path_template"], regex)
        # The variant playlists carry the mid-match problem on that one CDN only.
        and not (lookalike == "hls_variant" and s["cdn"] in (None, "cloudflare"))
    ]

    assert noisy == []


def test_variant_problem_inside_the_config_push_window_is_pinned_on_its_cdn(
    match: Match,
) -> None:
    problem = _problem(match, "variant_cache_key_midmatch")
    settings = load_settings(min_requests=100, suggestions={"min_requests": 50})

    result = offload.analyze(resolve(str(match.data)), settings, _window(problem), "raw")

    variant = [
        f for f in result["flagged"] if template_matches(f["path_template"], problem["path_regex"])
    ]
    assert variant
    for flag in variant:
        assert _codes(flag["suggestions"]) == {("QUERY_STRING_IN_CACHE_KEY", "cloudflare")}
        evidence = flag["suggestions"][0]["evidence"]
        assert evidence["query_params"][0]["name"] == "sid"
        assert evidence["cause_fragmentation_share"] >= 0.5


def test_variant_playlists_are_quiet_outside_the_config_push_window(match: Match) -> None:
    problem = _problem(match, "variant_cache_key_midmatch")
    first_innings = offload.Window.aligned(
        datetime.fromisoformat(match.doc["match"]["start"].replace("Z", "+00:00")),
        datetime.fromisoformat(problem["windows"][0]["from"].replace("Z", "+00:00")),
    )

    found = suggest(resolve(str(match.data)), SETTINGS, first_innings)

    assert not [s for s in found if template_matches(s["path_template"], problem["path_regex"])]


def test_errors_are_concentrated_in_the_spikes(report: dict, match: Match) -> None:
    problem = _problem(match, "live_stats_errors")
    flag = next(
        f for f in report["flagged"] if template_matches(f["path_template"], problem["path_regex"])
    )
    evidence = flag["suggestions"][0]["evidence"]

    assert evidence["cause_error_share"] >= 0.25
    assert evidence["spike_minutes"] > 0
    assert evidence["spike_request_offload"] < evidence["normal_request_offload"] - 0.1


def test_checks_pass_on_the_built_suggestions(match: Match) -> None:
    con = models.connect()
    try:
        offload.build_marts(con, resolve(str(match.data)), SETTINGS, offload.Window(), "raw")
        flags = con.sql("select * from offload_flags order by flag_rank").to_arrow_table()
        suggestions_for(con, flags.to_pylist())
        for check in (
            "checks/assert_template_evidence_adds_up",
            "checks/assert_policy_suggestions_bounded",
        ):
            assert models.run_check(con, check).num_rows == 0, check
    finally:
        con.close()


def test_stored_rollups_give_the_same_suggestions(match: Match, report: dict, tmp_path) -> None:
    data = resolve(str(copy_of(match, tmp_path / "data")))
    rollups.rebuild_rollups(data, SETTINGS)

    from_rollups = offload.analyze(data, SETTINGS, offload.Window(), "rollups")

    assert from_rollups["window"]["source"] == "rollups"
    assert [(f["path_template"], f["cdn"], f["suggestions"]) for f in from_rollups["flagged"]] == [
        (f["path_template"], f["cdn"], f["suggestions"]) for f in report["flagged"]
    ]


def test_suggestions_can_be_switched_off(match: Match) -> None:
    settings = load_settings(min_requests=300, suggestions={"enabled": False})

    result = offload.analyze(resolve(str(match.data)), settings, offload.Window(), "raw")

    assert result["flagged"]
    assert all(f["suggestions"] == [] for f in result["flagged"])


def test_analyze_table_lists_each_suggestion_under_its_template(
    match: Match, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cdn_offload.cli import main

    monkeypatch.setenv("COLUMNS", "200")

    assert (
        main(["analyze", "--data", str(match.data), "--min-requests", "300", "--source", "raw"])
        == 0
    )

    out = capsys.readouterr().out
    section = out[out.index("Suggestions") : out.index("Top templates")]
    for code in ("QUERY_STRING_IN_CACHE_KEY", "LONG_TAIL", "TTL_TOO_SHORT", "CDN_OUTLIER"):
        assert code in section
    assert "/beacon/qos" in section


def test_sampled_evidence_keeps_the_findings(match: Match, report: dict) -> None:
    # About half of the flagged templates' rows: units of path x POP x 5 minutes.
    settings = load_settings(min_requests=300, suggestions={"evidence_max_rows": 60_000})

    sampled = offload.analyze(resolve(str(match.data)), settings, offload.Window(), "raw")

    assert [
        (f["path_template"], f["cdn"], _codes(f["suggestions"])) for f in sampled["flagged"]
    ] == [(f["path_template"], f["cdn"], _codes(f["suggestions"])) for f in report["flagged"]]
    shares = {
        s["evidence"]["evidence_sample_share"] for f in sampled["flagged"] for s in f["suggestions"]
    }
    assert len(shares) == 1 and 0.3 < shares.pop() < 1
    assert {
        s["evidence"]["evidence_sample_share"] for f in report["flagged"] for s in f["suggestions"]
    } == {1}
