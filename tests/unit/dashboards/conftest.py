"""Dashboard fixtures: one generated match per session, and an AppTest factory per page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.unit.dashboards.match_data import build_gappy_data, build_match_data

PAGES = Path(__file__).resolve().parents[3] / "dashboards" / "app_pages"
ENV_PREFIX = "CDN_OFFLOAD_DASHBOARD_"


@pytest.fixture(scope="session")
def match_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_match_data(tmp_path_factory.mktemp("dashboard-match"))


@pytest.fixture(scope="session")
def gappy_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_gappy_data(tmp_path_factory.mktemp("dashboard-gappy"))


@pytest.fixture
def empty_data(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def page_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    """`make(page, data_dir, **settings)`: an AppTest of app_pages/<page>.py, not yet run.

    Settings become `CDN_OFFLOAD_DASHBOARD_*` variables, as `cdn-offload dashboard` sets them.
    """

    def make(page: str, data_dir: Path, **settings: Any) -> AppTest:
        for key, value in {"data": str(data_dir), **settings}.items():
            monkeypatch.setenv(f"{ENV_PREFIX}{key.upper()}", str(value))
        return AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=120)

    yield make
