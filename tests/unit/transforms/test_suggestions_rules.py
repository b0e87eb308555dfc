"""Each suggestion rule on hand-made requests: just at its threshold it fires, just past
it it stays quiet, and its estimate equals the figure worked out by hand.

Times are seconds after T0 (an even minute, so TTL windows of 2, 5, 10 and 60 s and
the day start on it). Unless a case says otherwise: one CDN (cloudfront), one POP.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ingest.storage import resolve
from tests.unit.transforms.offload_builders import T0, row, write_raw
from transforms import offload
from transforms.config import load_settings
from transforms.suggestions import suggest

pytestmark = pytest.mark.unit
SCORE = "/api/v1/match/{id}/score"
MANIFEST = "/live/final/manifest.mpd"
SCORECARD = "/api/v1/match/{id}/scorecard"
STATS = "/api/v1/match/{id}/live-stats"
IMAGES = "/img/players/{id}.webp"
PREFS = "/api/v1/users/{uuid}/prefs"
JS = "/static/js/app.{hash}.js"
COMMENTARY = "/api/v1/match/{id}/commentary"


def at(second: float, **fields: Any) -> dict[str, Any]:
    return row(event_time=T0 + timedelta(seconds=second), **fields)


def run(
    tmp_path: Path,
    rows: list[dict[str, Any]],
    template: str,
    cdn: str | None = None,
    **settings: Any,
) -> list[dict[str, Any]]:
    """The suggestions of one scope over all the rows."""
    write_raw(tmp_path, rows)
    rules = {"min_requests": 10, **settings.pop("suggestions", {})}
    found = suggest(
        resolve(str(tmp_path)),
        load_settings(min_requests=10, suggestions=rules, **settings),
        offload.Window(),
        [(template, cdn)],
    )
    return found[0]["suggestions"] if found else []


def codes(suggestions: list[dict[str, Any]]) -> set[tuple[str, str | None]]:
    return {(s["code"], s["cdn"]) for s in suggestions}


def by_code(suggestions: list[dict[str, Any]], code: str) -> dict[str, Any]:
    return next(s for s in suggestions if s["code"] == code)


# QUERY_STRING_IN_CACHE_KEY ---------------------------------------------------------


def query_rows(query_hits: int, weight: float = 1.0) -> list[dict[str, Any]]:
    """1 cold miss, 9 misses on new queries of the same path, 10 hits (query_hits with a query)."""
    path = "/api/v1/match/1/score"
    common = {"path": path, "max_age_s": 60, "sample_weight": weight}
    rows = [at(0, cache_status="MISS", **common)]
    rows += [at(s, cache_status="MISS", query=f"_={s}", **common) for s in range(1, 10)]
    rows += [
        at(10 + i, cache_status="HIT", query="_=h" if i < query_hits else None, **common)
        for i in range(10)
    ]
    return rows


def test_query_in_cache_key_fires_at_half_the_requests_with_a_query(tmp_path: Path) -> None:
    found = run(tmp_path, query_rows(query_hits=1), SCORE)

    assert codes(found) == {("QUERY_STRING_IN_CACHE_KEY", None)}
    s = found[0]
    # 10 origin requests of 20; the 9 fragmentation misses fall in one 60 s window at
    # one POP: one fetch left, 8 saved; offload 1 - (10 - 8) / 20.
    assert s["estimated_origin_requests_saved"] == 8
    assert s["estimated_request_offload_after"] == pytest.approx(0.9)
    assert s["evidence"]["query_request_share"] == pytest.approx(0.5)
    assert s["evidence"]["cause_fragmentation"] == 9
    assert s["evidence"]["query_params"][0]["name"] == "_"
    assert "'_'" in s["action"]


def test_query_in_cache_key_is_quiet_under_half(tmp_path: Path) -> None:
    assert run(tmp_path, query_rows(query_hits=0), SCORE) == []


def test_estimates_count_sampled_requests_by_their_weight(tmp_path: Path) -> None:
    found = run(tmp_path, query_rows(query_hits=1, weight=2.0), SCORE)

    s = by_code(found, "QUERY_STRING_IN_CACHE_KEY")
    # 18 weighted fragmentation misses, still one fetch: 17 saved of 20 origin, 40 requests.
    assert s["estimated_origin_requests_saved"] == 17
    assert s["estimated_request_offload_after"] == pytest.approx(1 - 3 / 40)


# TTL_TOO_SHORT --------------------------------------------------------------------


def manifest_rows() -> list[dict[str, Any]]:
    """1 cold miss, 9 revalidations (seconds 1-9), 10 hits; max-age 1 s."""
    common = {"path": MANIFEST, "max_age_s": 1, "content_type": "application/dash+xml"}
    rows = [at(0, cache_status="MISS", **common)]
    rows += [at(s, cache_status="REVALIDATED", **common) for s in range(1, 10)]
    rows += [at(10 + i, cache_status="HIT", **common) for i in range(10)]
    return rows


@pytest.mark.parametrize(
    ("threshold", "fires"), [(0.55, True), (0.5, False)], ids=["under_threshold", "at_threshold"]
)
def test_ttl_too_short_needs_the_template_under_the_threshold(
    tmp_path: Path, threshold: float, fires: bool
) -> None:
    found = run(tmp_path, manifest_rows(), MANIFEST, threshold=threshold)

    assert codes(found) == ({("TTL_TOO_SHORT", None)} if fires else set())


def test_ttl_too_short_keeps_live_manifests_at_half_a_segment(tmp_path: Path) -> None:
    s = by_code(run(tmp_path, manifest_rows(), MANIFEST), "TTL_TOO_SHORT")

    # Recommended TTL 2 s: the 9 expiries (seconds 1-9) fall in 5 two-second windows,
    # so 5 refreshes remain and 4 are saved; offload 1 - (10 - 4) / 20.
    assert s["evidence"]["recommended_ttl_s"] == 2
    assert s["evidence"]["expiry_refreshes"] == 5
    assert s["estimated_origin_requests_saved"] == 4
    assert s["estimated_request_offload_after"] == pytest.approx(0.7)
    assert "s-maxage=2" in s["action"] and "stale-while-revalidate=30" in s["action"]


# NOT_CACHEABLE --------------------------------------------------------------------


def config_rows(single_client_requests: int) -> list[dict[str, Any]]:
    """Match 1: 10 bypassed requests from 5 clients; match 2: n from one client (seconds 0-9)."""
    rows = [
        at(i, path="/api/v1/match/1/scorecard", cache_status="PASS", client_key=f"10.0.{i // 2}.0")
        for i in range(10)
    ]
    rows += [
        at(i % 10, path="/api/v1/match/2/scorecard", cache_status="PASS", client_key="10.9.9.0")
        for i in range(single_client_requests)
    ]
    return rows


def test_not_cacheable_fires_when_half_the_requests_are_shared(tmp_path: Path) -> None:
    found = run(tmp_path, config_rows(10), SCORECARD)

    assert codes(found) == {("NOT_CACHEABLE", None)}
    s = found[0]
    # s-maxage 10 s: each of the two objects is fetched once in seconds 0-9.
    assert s["estimated_origin_requests_saved"] == 18
    assert s["estimated_request_offload_after"] == pytest.approx(0.9)
    assert s["evidence"]["multi_client_request_share"] == pytest.approx(0.5)


def test_not_cacheable_is_quiet_when_most_requests_are_single_client(tmp_path: Path) -> None:
    assert run(tmp_path, config_rows(11), SCORECARD) == []


# ERRORS_NOT_CACHED ----------------------------------------------------------------


def error_rows(revalidations: int) -> list[dict[str, Any]]:
    """2 origin 503s, `revalidations` 304s, hits up to 40 requests."""
    path = "/api/v1/match/1/live-stats"
    rows = [at(s, path=path, cache_status="MISS", status=503) for s in (0, 1)]
    rows += [
        at(2 + i, path=path, cache_status="REVALIDATED", max_age_s=3) for i in range(revalidations)
    ]
    rows += [at(20 + i, path=path, cache_status="HIT") for i in range(38 - revalidations)]
    return rows


@pytest.mark.parametrize(
    ("revalidations", "fires"), [(6, True), (7, False)], ids=["quarter_of_origin", "under_quarter"]
)
def test_errors_not_cached_needs_a_quarter_of_origin_requests(
    tmp_path: Path, revalidations: int, fires: bool
) -> None:
    found = run(tmp_path, error_rows(revalidations), STATS)

    assert (("ERRORS_NOT_CACHED", None) in codes(found)) is fires
    # The revalidations are expiries: TTL_TOO_SHORT fires too, ranked by gain.
    assert ("TTL_TOO_SHORT", None) in codes(found)
    saved = [s["estimated_origin_requests_saved"] for s in found]
    assert saved == sorted(saved, reverse=True)


def test_errors_estimate_caches_errors_for_the_negative_ttl(tmp_path: Path) -> None:
    path = "/api/v1/match/1/live-stats"
    rows = [at(s, path=path, cache_status="MISS", status=503) for s in range(10)]
    rows += [at(20 + i, path=path, cache_status="HIT") for i in range(10)]

    s = by_code(run(tmp_path, rows, STATS), "ERRORS_NOT_CACHED")

    # Negative TTL 5 s: errors in seconds 0-9 need two origin fetches, 8 saved.
    assert s["estimated_origin_requests_saved"] == 8
    assert s["estimated_request_offload_after"] == pytest.approx(0.9)
    assert s["evidence"]["origin_5xx"] == 10


# LONG_TAIL ------------------------------------------------------------------------


def tail_rows(objects: int) -> list[dict[str, Any]]:
    """Each object missed once at two POPs, by two different clients."""
    return [
        at(
            i * 0.01,
            path=f"/img/players/{1000 + i // 2}.webp",
            pop=("FRA56-C1", "LHR61-C2")[i % 2],
            cache_status="MISS",
            client_key=f"10.{i // 250}.{i % 250}.0",
            max_age_s=86400,
        )
        for i in range(2 * objects)
    ]


def test_long_tail_fires_from_a_hundred_objects_and_counts_a_shield(tmp_path: Path) -> None:
    found = run(tmp_path, tail_rows(100), IMAGES)

    assert codes(found) == {("LONG_TAIL", None)}
    s = found[0]
    # A shield fetches each of the 100 objects once instead of once per POP.
    assert s["estimated_origin_requests_saved"] == 100
    assert s["estimated_request_offload_after"] == pytest.approx(0.5)
    assert s["evidence"]["distinct_paths"] == 100


def test_long_tail_is_quiet_under_a_hundred_objects(tmp_path: Path) -> None:
    assert run(tmp_path, tail_rows(99), IMAGES) == []


# UNCACHEABLE_BY_DESIGN ------------------------------------------------------------


def prefs_rows(users: int) -> list[dict[str, Any]]:
    """Each user's own prefs object, requested twice by that user's client, bypassed."""
    return [
        at(
            u * 2 + k,
            path=f"/api/v1/users/0f8fad5b-d9cb-469f-a165-7086772895{u:02d}/prefs",
            cache_status="PASS",
            client_key=f"10.1.{u}.0",
        )
        for u in range(users)
        for k in range(2)
    ]


def test_per_user_content_is_uncacheable_by_design(tmp_path: Path) -> None:
    found = run(tmp_path, prefs_rows(10), PREFS)

    assert codes(found) == {("UNCACHEABLE_BY_DESIGN", None)}
    assert found[0]["estimated_origin_requests_saved"] == 0
    assert found[0]["estimated_request_offload_after"] == 0
    assert found[0]["evidence"]["single_client_repeat_share"] == 1


def test_per_user_rule_needs_ten_repeated_objects(tmp_path: Path) -> None:
    assert run(tmp_path, prefs_rows(9), PREFS) == []


@pytest.mark.parametrize(("posts", "fires"), [(10, True), (9, False)], ids=["ten", "nine"])
def test_never_cacheable_methods_are_uncacheable_by_design(
    tmp_path: Path, posts: int, fires: bool
) -> None:
    rows = [
        at(i, path="/beacon/qos", method="POST", cache_status="PASS", status=204)
        for i in range(posts)
    ]

    found = run(tmp_path, rows, "/beacon/qos")

    assert codes(found) == ({("UNCACHEABLE_BY_DESIGN", None)} if fires else set())
    if fires:
        assert found[0]["estimated_request_offload_after"] is None
        assert "POST" in found[0]["action"]


# CDN_OUTLIER ----------------------------------------------------------------------


def outlier_rows(peer_hits: int, query_on_fastly: bool = False) -> list[dict[str, Any]]:
    """CloudFront: peer_hits hits of 100; Fastly: 50 hits, 50 misses (hits first)."""
    path = "/static/js/app.3f9c2a71.js"
    rows = [at(i * 0.1, path=path, cdn="cloudfront", cache_status="HIT") for i in range(peer_hits)]
    rows += [
        at(20 + i * 0.1, path=path, cdn="cloudfront", cache_status="MISS")
        for i in range(100 - peer_hits)
    ]
    for i in range(100):
        rows.append(
            at(
                40 + i * 0.1,
                path=path,
                cdn="fastly",
                pop="cache-fra-etou8220",
                cache_status="HIT" if i < 50 else "MISS",
                query=f"v={i}" if query_on_fastly else None,
                max_age_s=31536000,
            )
        )
    return rows


@pytest.mark.parametrize(
    ("peer_hits", "fires"), [(90, True), (89, False)], ids=["peers_at_threshold", "peers_under"]
)
def test_cdn_outlier_needs_healthy_peers(tmp_path: Path, peer_hits: int, fires: bool) -> None:
    found = run(tmp_path, outlier_rows(peer_hits), JS)

    assert codes(found) == ({("CDN_OUTLIER", "fastly")} if fires else set())


def test_cdn_outlier_estimate_brings_the_cdn_to_its_peers(tmp_path: Path) -> None:
    rows = outlier_rows(95)
    template_scope = run(tmp_path, rows, JS)
    cdn_scope = suggest(
        resolve(str(tmp_path)),
        load_settings(min_requests=10, suggestions={"min_requests": 10}),
        offload.Window(),
        [(JS, "fastly")],
    )[0]["suggestions"]

    # Fastly at its peers' 95 %: 100 * 0.05 = 5 origin requests instead of 50.
    for found, offload_after in ((template_scope, 1 - 10 / 200), (cdn_scope, 1 - 5 / 100)):
        s = by_code(found, "CDN_OUTLIER")
        assert s["estimated_origin_requests_saved"] == pytest.approx(45)
        assert s["estimated_request_offload_after"] == pytest.approx(offload_after)
        assert s["evidence"]["peer_request_offload"] == pytest.approx(0.95)
    assert "fastly" in template_scope[0]["action"]


def test_a_specific_cause_on_the_outlier_cdn_replaces_cdn_outlier(tmp_path: Path) -> None:
    found = run(tmp_path, outlier_rows(95, query_on_fastly=True), JS)

    # Every Fastly miss is a new query for a path the POP had: the cache key is the
    # cause, pinned on Fastly; the template-wide finding is left to it.
    assert codes(found) == {("QUERY_STRING_IN_CACHE_KEY", "fastly")}


# REQUEST_COLLAPSING ---------------------------------------------------------------


def spike_rows(same_second: bool) -> list[dict[str, Any]]:
    """30 quiet minutes of 10 hits, then a spike minute: 40 hits and 60 misses."""
    common = {"path": "/api/v1/match/1/commentary", "max_age_s": 300}
    rows = [
        at(m * 60 + i, cache_status="MISS" if m == i == 0 else "HIT", **common)
        for m in range(30)
        for i in range(10)
    ]
    rows += [at(1800 + 30 + i * 0.3, cache_status="HIT", **common) for i in range(40)]
    rows += [
        at(1800 + (0.5 if same_second else i), cache_status="MISS", **common) for i in range(60)
    ]
    return rows


def test_request_collapsing_fires_on_concurrent_misses_at_a_spike(tmp_path: Path) -> None:
    found = run(tmp_path, spike_rows(same_second=True), COMMENTARY)

    assert codes(found) == {("REQUEST_COLLAPSING", None)}
    s = found[0]
    # 60 misses of one object in one second at one POP: one fetch, 59 collapsed.
    assert s["estimated_origin_requests_saved"] == 59
    assert s["estimated_request_offload_after"] == pytest.approx(1 - 2 / 400)
    assert s["evidence"]["spike_minutes"] == 1
    assert s["evidence"]["spike_request_offload"] == pytest.approx(0.4)


def test_request_collapsing_is_quiet_when_misses_are_not_concurrent(tmp_path: Path) -> None:
    assert run(tmp_path, spike_rows(same_second=False), COMMENTARY) == []


def test_a_healthy_template_gets_nothing(tmp_path: Path) -> None:
    rows = [
        at(i, path="/api/v1/match/1/score", cache_status="HIT", query=f"_={i}") for i in range(95)
    ]
    rows += [
        at(100 + i, path="/api/v1/match/1/score", cache_status="MISS", query=f"_=m{i}")
        for i in range(5)
    ]

    assert run(tmp_path, rows, SCORE) == []


def test_analyze_reports_never_cacheable_templates_without_flags(tmp_path: Path) -> None:
    rows = [at(i, path="/beacon/qos", method="POST", cache_status="PASS") for i in range(10)]
    rows += [at(i, path="/live/final/master.m3u8", cache_status="HIT") for i in range(20)]
    write_raw(tmp_path, rows)
    settings = load_settings(min_requests=10, suggestions={"min_requests": 10})

    result = offload.analyze(resolve(str(tmp_path)), settings, offload.Window(), "raw")

    assert result["flagged"] == []
    beacons = result["non_cacheable_templates"]
    assert [(b["path_template"], b["methods"], b["requests"]) for b in beacons] == [
        ("/beacon/qos", "POST", 10)
    ]
    assert codes(beacons[0]["suggestions"]) == {("UNCACHEABLE_BY_DESIGN", None)}
