"""Errors of the ingest stage.

Problems with single records are never exceptions: they become quarantine rows.
These classes are for whole inputs and for the infrastructure, each marked terminal
(stop with a clear message) or transient (retry with backoff).
"""

from __future__ import annotations


class IngestError(Exception):
    """Base class of every ingest error."""

    terminal = True


class ConfigError(IngestError):
    """A setting is missing or invalid; `setting` names it."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting


class FramingError(IngestError):
    """A whole input (file or message) cannot be read as text: bad compression, not a log."""

    def __init__(self, source: str, reason: str, detail: str) -> None:
        super().__init__(f"{source}: {detail}")
        self.source = source
        self.reason = reason
        self.detail = detail


class UnknownFormatError(IngestError):
    """Auto-detection found no supported format in an input."""

    def __init__(self, source: str, sample: str) -> None:
        super().__init__(
            f"{source}: no supported log format recognised (first line: {sample[:120]!r})"
        )
        self.source = source
        self.sample = sample


class SinkError(IngestError):
    """Writing Parquet failed; nothing of the batch may be committed."""

    terminal = False

    def __init__(self, target: str, detail: str) -> None:
        super().__init__(f"writing {target} failed: {detail}")
        self.target = target


class BrokerUnavailable(IngestError):
    """The Kafka cluster cannot be reached right now; retried with backoff."""

    terminal = False
