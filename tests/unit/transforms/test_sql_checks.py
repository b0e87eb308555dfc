"""Every sql/checks query returns no rows on real-shaped data, and catches a broken rule."""

from __future__ import annotations

import pytest

from ingest.storage import resolve
from tests.unit.transforms.offload_builders import hits_and_misses, rows_from_csv, write_raw
from tests.unit.transforms.test_rollups import varied_rows
from transforms import models, offload, rollups
from transforms.config import load_settings

pytestmark = pytest.mark.unit
CHECKS = models.check_names()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    """A connection with every model built from raw files (the stored-rollup chain too)."""
    data_dir = tmp_path_factory.mktemp("checks")
    write_raw(
        data_dir,
        rows_from_csv("status_mix.csv")
        + hits_and_misses("/api/v1/match/1/score", "fastly", 10, 30),
    )
    write_raw(data_dir, varied_rows(2000, seed=9), name="part-1.parquet")
    settings = load_settings(min_requests=5, max_templates_per_host=4)
    con = models.connect()
    offload.build_marts(con, resolve(str(data_dir)), settings, offload.Window(), "raw")
    models.build(con, "intermediate/int_objects_counted_per_template")
    models.build(con, "intermediate/int_minute_rollups_assembled")
    yield con
    con.close()


def test_there_are_checks() -> None:
    assert len(CHECKS) >= 6


@pytest.mark.parametrize("check", CHECKS, ids=[c.split("/")[-1] for c in CHECKS])
def test_check_returns_no_rows(built, check: str) -> None:
    assert models.run_check(built, check).num_rows == 0
    assert built.sql("select count(*) from offload_flags").fetchall()[0][0] > 0


def test_a_check_reports_the_rows_that_break_its_rule(built) -> None:
    con = built.cursor()
    # Shadow the ratios with one impossible row; the range check must return it.
    con.execute(
        "create temp table int_offload_ratios_computed as select * from main.int_offload_ratios_computed"
    )
    con.execute(
        "update int_offload_ratios_computed set request_offload = 1.5 where grain = 'overall'"
    )

    broken = models.run_check(con, "checks/assert_offload_ratios_between_zero_and_one")

    assert broken.column("grain").to_pylist() == ["overall"]


def test_stored_rollup_model_matches_the_batch_writer(tmp_path) -> None:
    write_raw(tmp_path, varied_rows(500, seed=10))
    settings = load_settings()
    table, files = rollups.rollup_with_duckdb(resolve(str(tmp_path)), settings)

    assert len(files) == 2
    assert table.column_names[:3] == ["dt", "hour", "minute"]
    assert table.num_rows > 0
