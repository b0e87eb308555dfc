"""Suite-wide settings: tests are marked unit or integration by their folder."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_REAL_LOGS = REPO.parent / "shared" / "real_logs"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(REPO).parts
        if "integration" in parts:
            item.add_marker(pytest.mark.integration)
        elif "unit" in parts or "golden" in parts:
            item.add_marker(pytest.mark.unit)
