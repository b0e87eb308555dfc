"""`project_capacity` and `cdn-offload capacity`, with figures worked out by hand.

Minute 0 (the peak: 5 distinct clients): the score API gets 20 GET requests, a cold
miss, 9 misses on new `_=` queries and 10 hits (all but the first carry a query),
plus 5 POST beacons; minute 1: 2 more score hits from one client. Every response is
100 bytes. With one peak minute there are 5 x 60 = 300 viewer-seconds.
QUERY_STRING_IN_CACHE_KEY saves 8 of the 10 origin requests of the window (the 9
fragmentation misses fall in one 60 s TTL window: one fetch is left).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cdn_offload.cli import main
from ingest.storage import resolve
from tests.unit.transforms.offload_builders import T0, row, write_raw
from tests.unit.transforms.suggestion_cases import generated_match
from transforms import offload
from transforms.capacity import project_capacity
from transforms.config import load_settings

pytestmark = pytest.mark.unit
SCORE = "/api/v1/match/{id}/score"
N = 3000


def at(second: float, client: int, **fields: Any) -> dict[str, Any]:
    return row(
        event_time=T0 + timedelta(seconds=second),
        path=fields.pop("path", "/api/v1/match/1/score"),
        client_key=f"10.0.{client}.0",
        max_age_s=60,
        **fields,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("capacity")
    rows = [at(0, 0, cache_status="MISS")]
    rows += [at(s, s % 5, cache_status="MISS", query=f"_={s}") for s in range(1, 10)]
    rows += [at(10 + i, i % 5, cache_status="HIT", query="_=h") for i in range(10)]
    rows += [
        at(30 + c, c, path="/beacon/qos", method="POST", cache_status="PASS", status=204)
        for c in range(5)
    ]
    rows += [at(60 + i, 0, cache_status="HIT", query="_=h") for i in range(2)]
    write_raw(folder, rows)
    return folder


SETTINGS = load_settings(
    min_requests=10, suggestions={"min_requests": 10, "capacity_peak_minutes": 1}
)


@pytest.fixture(scope="module")
def projected(data_dir: Path) -> dict[str, Any]:
    return project_capacity(resolve(str(data_dir)), SETTINGS, offload.Window(), N)


def test_rates_per_viewer_come_from_the_peak_minute(projected: dict[str, Any]) -> None:
    assert projected["observed"]["peak_minutes"] == ["2024-03-10T10:00:00Z"]
    assert projected["observed"]["peak_viewers"] == 5
    score = next(t for t in projected["templates"] if t["path_template"] == SCORE)
    assert score["requests_per_viewer_s"] == pytest.approx(20 / 300)
    assert score["edge_requests_per_s"] == pytest.approx(200)
    assert score["request_offload_now"] == pytest.approx(0.5)
    assert score["origin_requests_per_s_now"] == pytest.approx(100)
    assert score["origin_egress_bytes_per_s_now"] == pytest.approx(10 * 100 * N / 300)


def test_after_the_suggestions_origin_load_shrinks_by_the_saved_share(
    projected: dict[str, Any],
) -> None:
    score = next(t for t in projected["templates"] if t["path_template"] == SCORE)

    assert projected["suggestions_applied"] is True
    assert score["origin_requests_per_s_after"] == pytest.approx(20)
    assert score["request_offload_after"] == pytest.approx(0.9)
    assert score["origin_egress_bytes_per_s_after"] == pytest.approx(2 * 100 * N / 300)


def test_never_cacheable_requests_reach_the_origin_before_and_after(
    projected: dict[str, Any],
) -> None:
    beacon = next(t for t in projected["templates"] if t["path_template"] == "/beacon/qos")
    total = projected["total"]

    assert beacon["origin_requests_per_s_now"] == beacon["origin_requests_per_s_after"] == 50
    assert beacon["request_offload_now"] is None
    assert total["edge_requests_per_s"] == pytest.approx(250)
    assert total["origin_requests_per_s_now"] == pytest.approx(150)
    assert total["origin_requests_per_s_after"] == pytest.approx(70)
    assert projected["templates"][0]["path_template"] == SCORE


def test_without_suggestions_after_equals_now(data_dir: Path) -> None:
    settings = load_settings(
        min_requests=10, suggestions={"enabled": False, "capacity_peak_minutes": 1}
    )

    found = project_capacity(resolve(str(data_dir)), settings, offload.Window(), N)

    assert found["suggestions_applied"] is False
    total = found["total"]
    assert total["origin_requests_per_s_after"] == total["origin_requests_per_s_now"]


def test_peak_concurrency_must_be_positive(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="peak_concurrency"):
        project_capacity(resolve(str(data_dir)), SETTINGS, offload.Window(), 0)


def test_command_prints_json_csv_and_table(data_dir: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["capacity", "--data", str(data_dir), "--peak-concurrency", str(N)]

    assert main([*args, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["peak_concurrency"] == N
    assert document["templates"]

    assert main([*args, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("path_template,requests_per_viewer_s")
    assert lines[1].startswith("(total),")
    # A template starting with a formula character would be quoted by write_csv.
    assert all(not line.startswith(("=", "+", "@")) for line in lines)

    assert main([*args, "--format", "table"]) == 0
    assert "Origin capacity" in capsys.readouterr().out


def test_command_without_data_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["capacity", "--data", str(tmp_path), "--peak-concurrency", "10"])

    assert code == 2
    assert "no data" in capsys.readouterr().err


def test_generated_match_projection_is_consistent() -> None:
    match = generated_match()

    found = project_capacity(
        resolve(str(match.data)), load_settings(min_requests=300), offload.Window(), 1_000_000
    )

    total = found["total"]
    assert total["origin_requests_per_s_after"] <= total["origin_requests_per_s_now"]
    assert total["edge_requests_per_s"] == pytest.approx(
        sum(t["edge_requests_per_s"] for t in found["templates"])
    )
    assert len(found["observed"]["peak_minutes"]) == 5
    assert all(
        t["origin_requests_per_s_after"] <= t["origin_requests_per_s_now"] + 1e-9
        for t in found["templates"]
    )
