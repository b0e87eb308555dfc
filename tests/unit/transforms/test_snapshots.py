"""`snapshot_candidates`: shared GET APIs ranked by the origin load a snapshot removes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ingest.storage import resolve
from tests.unit.transforms.offload_builders import T0, row, write_raw
from tests.unit.transforms.suggestion_cases import generated_match, template_matches
from transforms import offload
from transforms.config import load_settings
from transforms.snapshots import snapshot_candidates

pytestmark = pytest.mark.unit


def at(second: float, **fields: Any) -> dict[str, Any]:
    fields.setdefault("content_type", "application/json")
    return row(event_time=T0 + timedelta(seconds=second), **fields)


def test_shared_apis_ranked_by_origin_requests(tmp_path: Path) -> None:
    rows = [
        # Score: 30 requests from 10 clients, 20 reach the origin.
        *[
            at(
                i,
                path="/api/v1/match/1/score",
                cache_status="MISS" if i < 20 else "HIT",
                client_key=f"10.0.{i % 10}.0",
            )
            for i in range(30)
        ],
        # Commentary: 30 requests from 10 clients, 5 reach the origin.
        *[
            at(
                i,
                path="/api/v1/match/1/commentary",
                cache_status="MISS" if i < 5 else "HIT",
                client_key=f"10.0.{i % 10}.0",
            )
            for i in range(30)
        ],
        # Per-user prefs: each object requested twice by its one client: not a candidate.
        *[
            at(
                i,
                path=f"/api/v1/users/0f8fad5b-d9cb-469f-a165-7086772895{i // 2:02d}/prefs",
                cache_status="PASS",
                client_key=f"10.1.{i // 2}.0",
            )
            for i in range(30)
        ],
        # Images are not APIs.
        *[
            at(
                i,
                path="/img/teams/ind.webp",
                content_type="image/webp",
                cache_status="MISS",
                client_key=f"10.2.{i}.0",
            )
            for i in range(30)
        ],
    ]
    write_raw(tmp_path, rows)
    settings = load_settings(suggestions={"snapshot_min_requests": 20})

    found = snapshot_candidates(resolve(str(tmp_path)), settings, offload.Window())

    assert [(c["snapshot_rank"], c["path_template"], c["origin_requests"]) for c in found] == [
        (1, "/api/v1/match/{id}/score", 20),
        (2, "/api/v1/match/{id}/commentary", 5),
    ]
    score = found[0]
    assert score["origin_load_share"] == pytest.approx(20 / (20 + 5 + 30 + 30))
    assert score["clients_per_object"] == 10
    assert score["snapshot_bytes"] == 100  # one object at the median size
    assert score["origin_requests_per_s"] == pytest.approx(20 / 60)


def test_limit_keeps_the_best(tmp_path: Path) -> None:
    rows = [
        at(i, path=f"/api/v1/match/{m}/score", cache_status="MISS", client_key=f"10.0.{i}.0")
        for m in (1, 2)
        for i in range(25)
    ]
    write_raw(tmp_path, rows)
    settings = load_settings(suggestions={"snapshot_min_requests": 20})

    assert (
        len(snapshot_candidates(resolve(str(tmp_path)), settings, offload.Window(), limit=1)) == 1
    )


def test_generated_match_candidates() -> None:
    match = generated_match()
    settings = load_settings(suggestions={"snapshot_min_requests": 1000})

    found = snapshot_candidates(resolve(str(match.data)), settings, offload.Window())

    assert template_matches(found[0]["path_template"], match.regex_of("score_api"))
    names = [
        next(
            t["name"]
            for t in match.doc["templates"]
            if template_matches(c["path_template"], t["path_regex"])
        )
        for c in found
    ]
    assert "user_prefs_api" not in names and "qos_beacon" not in names
    assert {"live_stats_api", "scorecard_api", "commentary_api"} <= set(names)
    assert [c["origin_requests"] for c in found] == sorted(
        (c["origin_requests"] for c in found), reverse=True
    )
