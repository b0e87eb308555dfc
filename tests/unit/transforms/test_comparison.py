"""`compare_cdns`: CDNs side by side, on hand-counted rows and on the generated match.

Hand-made rows (one score path): minute 0, CloudFront 10 requests: 8 hits, a miss and
an origin 503, edge times 10, 20, ..., 100 ms. Minute 1: CloudFront 10 hits (no
timing), Fastly 5 hits and 5 misses at 5 ms each.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ingest.storage import resolve
from tests.unit.transforms.offload_builders import T0, row, write_raw
from tests.unit.transforms.suggestion_cases import generated_match, template_matches
from transforms import offload
from transforms.comparison import compare_cdns
from transforms.config import load_settings

pytestmark = pytest.mark.unit
PATH = "/api/v1/match/1/score"


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("compare")
    statuses = ["HIT"] * 8 + ["MISS", "MISS"]
    rows = [
        row(
            path=PATH,
            event_time=T0 + timedelta(seconds=i),
            cache_status=s,
            status=503 if i == 9 else 200,
            time_taken_ms=10.0 * (i + 1),
        )
        for i, s in enumerate(statuses)
    ]
    rows += [row(path=PATH, event_time=T0 + timedelta(seconds=60 + i)) for i in range(10)]
    rows += [
        row(
            path=PATH,
            cdn="fastly",
            pop="cache-fra-etou8220",
            event_time=T0 + timedelta(seconds=60 + i),
            cache_status="HIT" if i < 5 else "MISS",
            time_taken_ms=5.0,
        )
        for i in range(10)
    ]
    write_raw(folder, rows)
    return compare_cdns(resolve(str(folder)), load_settings(), offload.Window())


def test_cdns_side_by_side(compared: dict) -> None:
    by_cdn = {c["cdn"]: c for c in compared["by_cdn"]}

    assert [c["cdn"] for c in compared["by_cdn"]] == ["cloudfront", "fastly"]
    cf, fastly = by_cdn["cloudfront"], by_cdn["fastly"]
    assert (cf["requests"], fastly["requests"]) == (20, 10)
    assert cf["traffic_share"] == pytest.approx(2 / 3)
    assert (cf["request_offload"], fastly["request_offload"]) == (pytest.approx(0.9), 0.5)
    assert cf["origin_load_share"] == pytest.approx(2 / 7)
    assert (cf["error_rate"], fastly["error_rate"]) == (pytest.approx(0.05), 0)
    assert (cf["latency_p50_ms"], cf["latency_p95_ms"]) == (55, pytest.approx(95.5))
    assert fastly["latency_p50_ms"] == 5
    assert cf["ttfb_p50_ms"] is None
    assert compared["window"]["seconds"] == 120


def test_templates_per_cdn_with_the_gap_to_the_best(compared: dict) -> None:
    rows = {r["cdn"]: r for r in compared["by_cdn_template"]}

    assert {r["template_rank"] for r in rows.values()} == {1}
    assert rows["fastly"]["offload_gap_to_best"] == pytest.approx(0.4)
    assert rows["cloudfront"]["offload_gap_to_best"] == 0
    assert rows["fastly"]["traffic_share"] == pytest.approx(1 / 3)


def test_traffic_share_minute_by_minute(compared: dict) -> None:
    shares = [
        (r["minute"][-9:-4], r["cdn"], r["share"]) for r in compared["traffic_share_by_minute"]
    ]

    assert shares == [
        ("10:00", "cloudfront", 1.0),
        ("10:01", "cloudfront", 0.5),
        ("10:01", "fastly", 0.5),
    ]


def test_generated_match_shows_the_outlier_cdn() -> None:
    match = generated_match()

    found = compare_cdns(resolve(str(match.data)), load_settings(), offload.Window(), top=60)

    assert {c["cdn"] for c in found["by_cdn"]} == set(match.doc["cdns"])
    assert sum(c["traffic_share"] for c in found["by_cdn"]) == pytest.approx(1)
    js = [
        r
        for r in found["by_cdn_template"]
        if template_matches(r["path_template"], match.regex_of("static_js"))
    ]
    assert js
    worst = {
        max(js_rows, key=lambda r: r["offload_gap_to_best"])["cdn"] for js_rows in _by_template(js)
    }
    assert worst == {"fastly"}
    assert all(c["latency_p50_ms"] is not None for c in found["by_cdn"])


def _by_template(rows: list[dict]) -> list[list[dict]]:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["path_template"], []).append(r)
    return list(groups.values())
