"""Offload figures on hand-made rows, checked against numbers worked out by hand.

`cases/status_mix.csv` holds one row per ambiguous cache status. GET/HEAD viewer
requests (the ratio denominators) are every row except the POST beacon and the
shield duplicate; `hit_weighted` stands for 4 requests. So:

    cacheable requests      1+4+1+1+1+1 + 1+1+1+1+1+1+1+1+1           = 18
    origin requests         miss, revalidated, stale (failed attempt),
                            pass, uncacheable, error_from_origin,
                            partial_hit                                 = 7
                            (updating is a background refresh, synthetic
                            and edge errors never reached the origin,
                            unknown is not counted as origin)
    request offload         1 - 7/18                                    = 11/18
    cacheable bytes         1000+4000+1000+500+1000+1000+200+200+100
                            +50+50+50+1000+300+800                      = 11250
    offloaded bytes         served from cache: 1000+4000+500+1000+1000
                            +300+800 = 8600, plus synthetic 100         = 8700
    cache hit ratio         lookups HIT/STALE/UPDATING/REVALIDATED/
                            PARTIAL/MISS = 1+4+1+1+1+1+1+1+1 = 12,
                            hits 1+4+1+1+1+1+1 = 10                     = 10/12
    strict hit ratio        revalidated counts as a miss                = 9/12
    origin bytes            full fetches: 1000+200+200+1000             = 2400
    revalidation share      1 conditional of 7 origin requests          = 1/7
"""

from __future__ import annotations

import pytest

from ingest.storage import resolve
from tests.unit.transforms.offload_builders import T0, rows_from_csv, write_raw
from transforms import offload, rollups
from transforms.config import load_settings

pytestmark = pytest.mark.unit
SEGMENTS = "/live/final/1080p/seg_{n}.m4s"


@pytest.fixture(scope="module")
def mix_dir(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("mix")
    write_raw(data_dir, rows_from_csv("status_mix.csv"))
    return data_dir


def _analyze(data_dir, source: str) -> dict:
    data = resolve(str(data_dir))
    settings = load_settings(min_requests=1)
    if source == "rollups-batch":
        rollups.rebuild_rollups(data, settings)
    elif source == "rollups-live":
        rollups.update_rollups(data, settings)
    return offload.analyze(data, settings, source="raw" if source == "raw" else "rollups")


@pytest.mark.parametrize("source", ["raw", "rollups-batch", "rollups-live"])
def test_overall_offload_matches_hand_worked_figures(mix_dir, source: str) -> None:
    overall = _analyze(mix_dir, source)["overall"]

    assert overall["requests"] == 19
    assert overall["cacheable_requests"] == 18
    assert overall["origin_requests"] == 7
    assert overall["request_offload"] == pytest.approx(11 / 18)
    assert overall["cacheable_bytes"] == 11250
    assert overall["offloaded_bytes"] == 8700
    assert overall["byte_offload"] == pytest.approx(8700 / 11250)
    assert overall["cache_hit_ratio"] == pytest.approx(10 / 12)
    assert overall["cache_hit_ratio_strict"] == pytest.approx(9 / 12)
    assert overall["origin_bytes"] == 2400
    assert overall["revalidation_requests"] == 1
    assert overall["revalidation_share"] == pytest.approx(1 / 7)
    assert overall["synthetic_requests"] == 1
    assert overall["non_cacheable_requests"] == 1
    assert overall["non_cacheable_origin_requests"] == 1
    assert overall["origin_requests_per_s"] == pytest.approx(7 / 120)


def test_window_spans_the_minutes_of_the_data(mix_dir) -> None:
    window = _analyze(mix_dir, "raw")["window"]

    assert window == {
        "from": "2024-03-10T10:00:00Z",
        "to": "2024-03-10T10:02:00Z",
        "seconds": 120.0,
        "source": "raw",
    }


def test_non_cacheable_methods_are_reported_apart(mix_dir) -> None:
    result = _analyze(mix_dir, "raw")

    assert result["non_cacheable"] == [
        {
            "method": "POST",
            "requests": 1.0,
            "origin_requests": 1.0,
            "bytes": 10,
            "requests_per_s": pytest.approx(1 / 120),
        }
    ]
    beacon = next(t for t in result["templates"] if t["path_template"] == "/beacon/qos")
    assert beacon["cacheable_requests"] == 0
    assert beacon["request_offload"] is None


def test_every_segment_collapses_onto_one_template(mix_dir) -> None:
    templates = {t["path_template"]: t for t in _analyze(mix_dir, "raw")["templates"]}

    assert set(templates) == {SEGMENTS, "/beacon/qos"}
    assert templates[SEGMENTS]["cacheable_requests"] == 18
    assert templates[SEGMENTS]["request_offload"] == pytest.approx(11 / 18)


def test_window_bounds_select_minutes(mix_dir) -> None:
    data = resolve(str(mix_dir))
    settings = load_settings(min_requests=1)
    second_minute = offload.Window.aligned(T0.replace(minute=1), T0.replace(minute=2))

    overall = offload.analyze(data, settings, second_minute, source="raw")["overall"]

    # pass, uncacheable, synthetic, 2 errors, unknown, partial, head, body-only: 9;
    # origin: pass, uncacheable, error_from_origin, partial_hit: 4.
    assert overall["cacheable_requests"] == 9
    assert overall["request_offload"] == pytest.approx(5 / 9)


def test_per_minute_mart_splits_the_window(mix_dir) -> None:
    from transforms import models

    con = models.connect()
    offload.build_marts(con, resolve(str(mix_dir)), load_settings(), offload.Window(), "raw")
    minutes = con.sql(
        "select strftime(minute, '%H:%M') as m, cacheable_requests, request_offload "
        "from minute_offload where cdn is null order by minute"
    ).fetchall()

    assert minutes == [("10:00", 9.0, pytest.approx(6 / 9)), ("10:01", 9.0, pytest.approx(5 / 9))]


def test_fractional_sample_weights_are_kept_to_thousandths(tmp_path) -> None:
    from tests.unit.transforms.offload_builders import row

    write_raw(tmp_path, [row(sample_weight=2.5), row(sample_weight=1 / 3, cache_status="MISS")])

    overall = offload.analyze(resolve(str(tmp_path)), load_settings(), source="raw")["overall"]

    assert overall["cacheable_requests"] == pytest.approx(2.833)
    assert overall["origin_requests"] == pytest.approx(0.333)
    # bytes are weighted per row and rounded: 100 * 2.5 + round(100 / 3)
    assert overall["cacheable_bytes"] == 250 + 33
