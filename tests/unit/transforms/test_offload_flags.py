"""Flags: templates under the threshold with enough traffic, severity, CDN outliers.

Every request below sends 100 bytes, so byte shares equal request shares. Origin
requests (misses) in the window: score 600+600, 720p 50+500, img 30+150, 480p 30,
small 50: 2010 in all.
"""

from __future__ import annotations

import pytest

from ingest.storage import resolve
from tests.unit.transforms.offload_builders import hits_and_misses, write_raw
from transforms import offload
from transforms.config import load_settings

pytestmark = pytest.mark.unit
SCORE = "/api/v1/match/{id}/score"
P720 = "/live/final/720p/index.m3u8"
P480 = "/live/final/480p/index.m3u8"
IMG = "/img/players/{id}.webp"


@pytest.fixture(scope="module")
def flags_dir(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("flags")
    rows = [
        # Unhealthy on both CDNs: a template flag, no CDN outlier.
        *hits_and_misses("/api/v1/match/90211/score", "cloudfront", 300, 600),
        *hits_and_misses("/api/v1/match/90211/score", "fastly", 300, 600),
        # Healthy on CloudFront, bad on Fastly: both a template flag and an outlier.
        *hits_and_misses(P720, "cloudfront", 950, 50),
        *hits_and_misses(P720, "fastly", 500, 500),
        # Healthy overall (3820/4000) but Fastly alone is under: only an outlier.
        *hits_and_misses("/img/players/1234.webp", "cloudfront", 2970, 30),
        *hits_and_misses("/img/players/1234.webp", "fastly", 850, 150),
        # Under the threshold, small share of origin load: P3.
        *hits_and_misses(P480, "cloudfront", 170, 30),
        # All misses but below min_requests: never flagged.
        *hits_and_misses("/tiny/9/x", "cloudfront", 0, 50),
    ]
    write_raw(data_dir, rows)
    return data_dir


def _flags(data_dir, **settings) -> list[dict]:
    settings = {"min_requests": 100, **settings}
    result = offload.analyze(resolve(str(data_dir)), load_settings(**settings), source="raw")
    return result["flagged"]


def test_flags_are_ranked_by_origin_load_with_severity(flags_dir) -> None:
    flags = _flags(flags_dir)

    assert [(f["path_template"], f["cdn"], f["severity"]) for f in flags] == [
        (SCORE, None, "P1"),  # 1200/2010 = 0.60
        (P720, None, "P1"),  # 550/2010 = 0.27
        (P720, "fastly", "P1"),  # 500/2010 = 0.25
        (IMG, "fastly", "P2"),  # 150/2010 = 0.075
        (P480, None, "P3"),  # 30/2010 = 0.015
    ]
    assert flags[0]["origin_load_share"] == pytest.approx(1200 / 2010)
    assert flags[0]["request_offload"] == pytest.approx(600 / 1800)
    assert flags[0]["origin_requests"] == 1200
    assert flags[0]["origin_bytes"] == 120000
    assert flags[3]["request_offload"] == pytest.approx(850 / 1000)
    # Fastly is planted as the slow outlier: the suggestions say so on its flags.
    codes = [{(s["code"], s["cdn"]) for s in f["suggestions"]} for f in flags]
    for i in (1, 2, 3):
        assert ("CDN_OUTLIER", "fastly") in codes[i], codes[i]
    assert all(cdn in (None, "fastly") for c in codes for _, cdn in c)


def test_template_list_marks_flagged_templates(flags_dir) -> None:
    result = offload.analyze(resolve(str(flags_dir)), load_settings(min_requests=100), source="raw")
    flagged = {t["path_template"]: t["flagged"] for t in result["templates"]}

    assert flagged == {IMG: False, SCORE: True, P720: True, P480: True, "/tiny/{id}/x": False}
    assert [t["path_template"] for t in result["templates"]] == [
        IMG,
        P720,
        SCORE,
        P480,
        "/tiny/{id}/x",
    ]


def test_min_requests_keeps_small_templates_out(flags_dir) -> None:
    assert "/tiny/{id}/x" in {f["path_template"] for f in _flags(flags_dir, min_requests=10)}
    assert "/tiny/{id}/x" not in {f["path_template"] for f in _flags(flags_dir)}


def test_threshold_is_configurable(flags_dir) -> None:
    flags = _flags(flags_dir, threshold=0.8)

    # 480p (0.85) and img on fastly (0.85) are healthy at 0.8; 720p on CloudFront
    # (0.95) is healthy, Fastly (0.5) is not.
    assert [(f["path_template"], f["cdn"]) for f in flags] == [
        (SCORE, None),
        (P720, None),
        (P720, "fastly"),
    ]


def test_severity_cut_offs_are_configurable(flags_dir) -> None:
    flags = _flags(flags_dir, p1_min_origin_share=0.5, p2_min_origin_share=0.2)

    assert [f["severity"] for f in flags] == ["P1", "P2", "P2", "P3", "P3"]
