"""Cache-policy suggestions for flagged templates.

This is the seam the suggestions work fills in: `suggestions_for` receives the
DuckDB connection on which the offload models are built (raw edge requests are
registered as `src_edge_requests` when the run read raw files) and the flags in
rank order. Until suggestion rules exist it returns an empty list for every flag;
nothing here pretends otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb


def suggestions_for(
    con: duckdb.DuckDBPyConnection, flags: Sequence[dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    """One list of suggestions per flag, in the order of `flags` (all empty for now)."""
    del con  # the evidence queries will run on it
    return [[] for _ in flags]
