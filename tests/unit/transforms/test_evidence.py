"""`template_evidence`: the evidence of one template, checked against hand-counted rows.

Score API, two CDNs. CloudFront (POP FRA56-C1): a cold miss without query, 3 misses
on new `_=` queries (fragmentation), 2 revalidations (max-age 5 s, expiry), one
origin 503 and 3 hits with the query `lang=en`; 10 requests from 5 clients.
Fastly (POP cache-fra-etou8220): 9 hits and 1 pass, from one client. A POST to the
same path is counted apart.
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
from transforms.errors import NoDataError
from transforms.evidence import template_evidence

pytestmark = pytest.mark.unit
SCORE = "/api/v1/match/{id}/score"
PATH = "/api/v1/match/7/score"


def at(second: float, **fields: Any) -> dict[str, Any]:
    fields.setdefault("path", PATH)
    fields.setdefault("content_type", "application/json")
    return row(event_time=T0 + timedelta(seconds=second), **fields)


def cloudfront_rows() -> list[dict[str, Any]]:
    c = [f"10.0.{i}.0" for i in range(5)]
    return [
        at(0, cache_status="MISS", client_key=c[0], bytes_sent=1000),
        *[at(1 + i, cache_status="MISS", query=f"_={i}", client_key=c[1]) for i in range(3)],
        *[at(4 + i, cache_status="REVALIDATED", max_age_s=5, client_key=c[2]) for i in range(2)],
        at(6, cache_status="MISS", status=503, client_key=c[3]),
        *[at(7 + i, cache_status="HIT", query="lang=en", client_key=c[4]) for i in range(3)],
    ]


def fastly_rows() -> list[dict[str, Any]]:
    common = {"cdn": "fastly", "pop": "cache-fra-etou8220", "client_key": "10.9.0.0"}
    return [
        *[at(20 + i, cache_status="HIT", **common) for i in range(9)],
        at(30, cache_status="PASS", **common),
        at(31, method="POST", cache_status="PASS", **common),
    ]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("evidence")
    write_raw(folder, cloudfront_rows() + fastly_rows())
    return folder


def _evidence(data_dir: Path, cdn: str | None) -> dict[str, Any]:
    settings = load_settings(min_requests=5)
    return template_evidence(resolve(str(data_dir)), settings, offload.Window(), SCORE, cdn)


def test_template_evidence_over_all_cdns(data_dir: Path) -> None:
    ev = _evidence(data_dir, None)

    assert (ev["path_template"], ev["cdn"]) == (SCORE, None)
    assert ev["requests"] == 21
    assert (ev["cacheable_requests"], ev["non_cacheable_requests"]) == (20, 1)
    assert ev["non_cacheable_methods"] == "POST"
    # Origin: 4 misses, 2 revalidations, 1 error (CloudFront) and 1 pass (Fastly).
    assert ev["origin_requests"] == 8
    assert ev["request_offload"] == pytest.approx(0.6)
    assert {m["cache_status"]: m["requests"] for m in ev["cache_status_mix"]} == {
        "HIT": 12,
        "MISS": 5,
        "REVALIDATED": 2,
        "PASS": 1,
    }
    assert ev["origin_causes"] == {
        "error": 1,
        "bypass": 1,
        "expiry": 2,
        "uncached_repeat": 0,
        "fragmentation": 3,
        "cold": 1,
        "other": 0,
    }
    assert ev["origin_status_classes"] == {"2xx": 7, "3xx": 0, "4xx": 0, "5xx": 1}


def test_template_evidence_queries_objects_and_max_age(data_dir: Path) -> None:
    ev = _evidence(data_dir, None)

    q = ev["queries"]
    assert q["query_request_share"] == pytest.approx(6 / 20)
    assert (q["distinct_paths"], q["distinct_keys"]) == (1, 5)  # no query, 3 busters, lang=en
    assert [(p["name"], p["distinct_values"]) for p in q["query_params"]] == [("_", 3), ("lang", 1)]
    assert ev["objects"]["objects"] == 1
    assert ev["objects"]["clients_per_object"] == 6
    assert ev["objects"]["multi_client_request_share"] == 1
    assert ev["max_age"]["logged_share"] == pytest.approx(2 / 20)
    assert (ev["max_age"]["min_s"], ev["max_age"]["max_s"]) == (5, 5)
    assert ev["content"]["content_type"] == "application/json"
    assert ev["content"]["is_live_manifest"] is False


def test_template_evidence_per_cdn_and_pop(data_dir: Path) -> None:
    ev = _evidence(data_dir, None)

    assert [(c["cdn"], c["requests"], c["origin_requests"]) for c in ev["by_cdn"]] == [
        ("cloudfront", 10, 7),
        ("fastly", 10, 1),
    ]
    assert [(p["cdn"], p["pop"]) for p in ev["top_pops"]] == [
        ("cloudfront", "FRA56-C1"),
        ("fastly", "cache-fra-etou8220"),
    ]
    assert ev["top_pops"][1]["request_offload"] == pytest.approx(0.9)


def test_template_evidence_of_one_cdn_compares_it_with_its_peers(data_dir: Path) -> None:
    ev = _evidence(data_dir, "cloudfront")

    assert ev["cacheable_requests"] == 10
    assert ev["request_offload"] == pytest.approx(0.3)
    assert ev["peers"]["peer_request_offload"] == pytest.approx(0.9)
    assert ev["peers"]["offload_gap"] == pytest.approx(0.6)
    assert ev["by_cdn"] == []


def test_template_evidence_of_an_unknown_template_is_empty(data_dir: Path) -> None:
    unknown = template_evidence(
        resolve(str(data_dir)), load_settings(), offload.Window(), "/nope/{id}", None
    )

    assert unknown["requests"] == 0
    assert unknown["request_offload"] is None
    assert unknown["cache_status_mix"] == [] and unknown["suggestions"] == []


def test_template_evidence_without_data_says_so(tmp_path: Path) -> None:
    with pytest.raises(NoDataError):
        template_evidence(resolve(str(tmp_path)), load_settings(), offload.Window(), SCORE, None)
