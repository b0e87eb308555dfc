"""Paths, hosts and POPs from logs are shown as text: never as markdown or HTML."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.dashboards.match_data import EVIL_MARKDOWN_PATH, EVIL_PATH, EVIL_STRINGS
from tests.unit.dashboards.support import frames, texts

pytestmark = pytest.mark.unit
DASHBOARDS = Path(__file__).resolve().parents[3] / "dashboards"


def _shown_as_text(at) -> set[str]:
    cells: set[str] = set()
    for frame in frames(at):
        for column in frame.columns:
            cells.update(v for v in frame[column].dropna() if isinstance(v, str))
    return cells


def _assert_not_rendered(at) -> None:
    rendered = texts(at) + [str(h.proto) for h in at.get("html")]
    leaks = [t for t in rendered for evil in EVIL_STRINGS if evil in t]
    assert not leaks, f"log text reached a markdown/HTML element: {leaks}"


@pytest.mark.parametrize("page", ["live", "explore", "post_match"])
def test_hostile_templates_are_listed_as_text_only(page_factory, match_data, page):
    at = page_factory(page, match_data).run()

    assert not at.exception
    _assert_not_rendered(at)
    assert {EVIL_PATH, EVIL_MARKDOWN_PATH} <= _shown_as_text(at)


def test_hostile_template_drill_down_shows_it_as_code(page_factory, match_data):
    at = page_factory("explore", match_data).run()
    at.selectbox(key="explore_template").set_value(EVIL_MARKDOWN_PATH).run()

    assert not at.exception
    _assert_not_rendered(at)
    assert EVIL_MARKDOWN_PATH in [c.value for c in at.code]


def test_hostile_sources_on_the_data_quality_page(page_factory, match_data):
    at = page_factory("data_quality", match_data).run()

    assert not at.exception
    _assert_not_rendered(at)


def test_no_page_allows_unsafe_html():
    sources = {p.name: p.read_text() for p in DASHBOARDS.rglob("*.py")}

    assert not [name for name, text in sources.items() if "unsafe_allow_html" in text]
    # The one st.html call carries fixed CSS, no data.
    calls = [name for name, text in sources.items() if "st.html(" in text]
    assert calls == ["live.py"]
    assert "st.html(BIG_FIGURES)" in sources["live.py"]
