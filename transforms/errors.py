"""Errors of the transforms stage (rollups and offload analytics).

Each error is terminal (stop with a clear message: bad configuration, no data) or
transient (retry later: object storage throttled or unreachable), following the
ingest stage's split.
"""

from __future__ import annotations


class TransformError(Exception):
    """Base class of every transforms error."""

    terminal = True


class ConfigError(TransformError):
    """A setting is missing or invalid; `setting` names it."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting


class NoDataError(TransformError):
    """There is nothing to analyse where the data directory says; `location` names it."""

    def __init__(self, location: str, hint: str) -> None:
        super().__init__(f"no data under {location}: {hint}")
        self.location = location
        self.hint = hint


class RollupError(TransformError):
    """Stored rollups cannot be read or written; retried, since storage is usually at fault."""

    terminal = False

    def __init__(self, target: str, detail: str) -> None:
        super().__init__(f"rollups at {target}: {detail}")
        self.target = target
        self.detail = detail
