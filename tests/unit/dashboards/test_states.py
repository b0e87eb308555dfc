"""Empty data, missing rollups, bad settings: a clear message and the fix, never a traceback."""

from __future__ import annotations

import pytest

from tests.unit.dashboards.support import texts

pytestmark = pytest.mark.unit
PAGES = ["live", "explore", "post_match", "data_quality"]


@pytest.mark.parametrize("page", PAGES)
def test_an_empty_data_dir_says_how_to_ingest(page_factory, empty_data, page):
    at = page_factory(page, empty_data).run()

    assert not at.exception
    assert [w.value for w in at.warning] == ["No ingested data yet."]
    assert f"cdn-offload ingest files LOG_DIR --out {empty_data}" in at.code[0].value


@pytest.mark.parametrize("page", PAGES)
def test_a_missing_data_dir_says_how_to_ingest(page_factory, tmp_path, page):
    at = page_factory(page, tmp_path / "not-there").run()

    assert not at.exception
    assert [w.value for w in at.warning] == ["No ingested data yet."]


@pytest.mark.parametrize("page", ["live", "explore", "post_match"])
def test_missing_rollups_say_how_to_build_them(page_factory, gappy_data, page):
    at = page_factory(page, gappy_data, source="rollups").run()

    assert not at.exception
    assert "There is nothing to analyse." in [w.value for w in at.warning]
    assert any("--rebuild-rollups" in c.value for c in at.code)


@pytest.mark.parametrize("page", ["live", "explore", "post_match"])
def test_reading_raw_files_points_to_the_rollups(page_factory, gappy_data, page):
    at = page_factory(page, gappy_data).run()

    assert not at.exception
    assert "Reading raw files: the stored minute rollups are missing or behind" in [
        e.label for e in at.expander
    ]
    assert any("--update-rollups" in c.value for c in at.code)


def test_stored_rollups_are_used_when_fresh(page_factory, match_data):
    at = page_factory("live", match_data).run()

    assert [e.label for e in at.expander] == ["Feed freshness per CDN"]
    assert any("read from rollups" in t for t in texts(at))


@pytest.mark.parametrize("page", PAGES)
def test_invalid_settings_are_named(page_factory, match_data, page):
    at = page_factory(page, match_data, refresh_s="-1").run()

    assert not at.exception
    assert [e.value for e in at.error] == ["The dashboard settings are invalid."]
    assert "refresh_s" in at.text[0].value


def test_an_invalid_transforms_config_is_named(page_factory, match_data, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[transforms]\nthreshold = 7\n")
    at = page_factory("live", match_data, config_file=config).run()

    assert not at.exception
    assert [w.value for w in at.warning] == ["The dashboard cannot read its input."]
    assert "threshold" in at.text[0].value
