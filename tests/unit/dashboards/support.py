"""Readers of AppTest results shared by the dashboard page tests."""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest


def texts(at: AppTest) -> list[str]:
    """Every text an AppTest run rendered through markdown-capable elements."""
    kinds = (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
        "exception",
    )
    found = [str(e.value) for kind in kinds for e in getattr(at, kind)]
    found += [f"{m.label} {m.value} {m.delta}" for m in at.metric]
    return found


def frames(at: AppTest) -> list[Any]:
    """The pandas frames of every st.dataframe of the run."""
    return [d.value for d in at.dataframe]


def frame_with(at: AppTest, *columns: str) -> Any:
    """The first table that has all `columns`."""
    for frame in frames(at):
        if set(columns) <= set(frame.columns):
            return frame
    raise AssertionError(f"no table with columns {columns}")
