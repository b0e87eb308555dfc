"""One batch of framed lines to canonical rows and rejects: detect, parse, protect.

Shared by the file and Kafka sources so that both apply exactly the same parsing and
privacy rules. Sources own reading and position tracking; sinks own writing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ingest import formats
from ingest.detect import SNIFF_LINES, detect
from ingest.errors import UnknownFormatError
from ingest.framing import Framed
from ingest.normalize import rejects_from
from ingest.privacy import ClientIpMode, apply_client_key
from ingest.records import QUARANTINE_SCHEMA, ParseResult, RawLines, Reason, Stage

if TYPE_CHECKING:
    from ingest.config import IngestSettings


@dataclass
class RunSummary:
    """Counters of one ingest run; `lines_read` = rows written + rows quarantined."""

    files: int = 0
    lines_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    lines_skipped: int = 0
    files_written: int = 0
    by_format: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)
    failed_inputs: list[dict[str, str]] = field(default_factory=list)
    first_event: datetime | None = None
    last_event: datetime | None = None

    def add(self, fmt: str | None, result: ParseResult, skipped: int = 0) -> None:
        self.lines_read += result.total
        self.rows_written += result.rows.num_rows
        self.rows_quarantined += result.rejects.num_rows
        self.lines_skipped += skipped
        if fmt:
            self.by_format[fmt] += result.rows.num_rows
        if result.rows.num_rows:
            bounds = pc.min_max(result.rows.column("event_time")).as_py()
            lo, hi = bounds["min"], bounds["max"]
            self.first_event = lo if self.first_event is None else min(self.first_event, lo)
            self.last_event = hi if self.last_event is None else max(self.last_event, hi)
        if result.rejects.num_rows:
            codes = result.rejects.column("reason_code").value_counts().to_pylist()
            for item in codes:
                self.by_reason[item["values"]] += item["counts"]

    def event_window(self) -> tuple[datetime, datetime] | None:
        """[first, last] event time of the rows written, end exclusive; None without rows."""
        if self.first_event is None or self.last_event is None:
            return None
        return self.first_event, self.last_event + timedelta(milliseconds=1)

    def as_json(self) -> dict[str, object]:
        return {
            "files": self.files,
            "lines_read": self.lines_read,
            "rows_written": self.rows_written,
            "rows_quarantined": self.rows_quarantined,
            "lines_skipped": self.lines_skipped,
            "files_written": self.files_written,
            "by_format": dict(sorted(self.by_format.items())),
            "quarantined_by_reason": dict(sorted(self.by_reason.items())),
            "failed_inputs": self.failed_inputs,
        }


def sample_of(framed: Framed) -> tuple[list[str], str | None]:
    """First lines and the W3C header of a framed input, for detection."""
    head = framed.lines.slice(0, SNIFF_LINES)
    header = head.column("header")[0].as_py() if head.num_rows else None
    return head.column("raw").to_pylist(), header


def reject_all(framed: Framed, reason: Reason, detail: str, fmt: str | None = None) -> ParseResult:
    """Every line of `framed` as a rejected record (e.g. its format is unknown)."""
    df = pl.from_arrow(framed.lines)
    assert isinstance(df, pl.DataFrame)
    df = df.with_columns(
        pl.lit(reason.value).alias("_reason"), pl.lit(detail[:200]).alias("_detail")
    )
    rejects = (
        rejects_from(df, cdn=None, source_format=fmt, stage=Stage.PARSING)
        if df.height
        else QUARANTINE_SCHEMA.empty_table()
    )
    return ParseResult(ParseResult.empty().rows, pa.concat_tables([framed.rejects, rejects]))


def resolve_format(requested: str, framed: Framed, source: str) -> str:
    """The format to parse `framed` with: `requested`, or detected when it is `auto`.

    Raises:
        UnknownFormatError: auto-detection recognised nothing.
        KeyError: `requested` is not a supported format name.
    """
    if requested != "auto":
        formats.module(requested)
        return requested
    sample, header = sample_of(framed)
    return detect(sample, header, source)


@dataclass(frozen=True)
class FormatOptions:
    """Per-format settings that the log lines themselves do not carry."""

    realtime_fields: tuple[str, ...] | None = None  # CloudFront real-time log config
    realtime_sampling_pct: float = 100.0

    @classmethod
    def of(cls, settings: IngestSettings) -> FormatOptions:
        fields = settings.cloudfront_realtime_fields
        return cls(
            realtime_fields=tuple(fields) if fields is not None else None,
            realtime_sampling_pct=settings.cloudfront_realtime_sampling_pct,
        )


def parser_for(fmt: str, options: FormatOptions | None = None) -> Callable[[RawLines], ParseResult]:
    """The parser of `fmt`, configured by `options`.

    Azure records arriving in Event Hub envelopes (`{"records": [...]}` per line or
    message) are unwrapped first: each record is then counted as a line of its own,
    with the envelope's source position.
    """
    options = options or FormatOptions()
    if fmt == "cloudfront_realtime":
        realtime = formats.module(fmt)
        if options.realtime_fields is not None:
            return partial(
                realtime.parse_with_fields,
                fields=options.realtime_fields,
                sampling_rate_pct=options.realtime_sampling_pct,
            )
        return partial(realtime.parse, sampling_rate_pct=options.realtime_sampling_pct)
    if fmt == "azure_front_door":
        azure = formats.module(fmt)
        return lambda lines: azure.parse(azure.unwrap_records(lines))
    return formats.parser(fmt)


def parse_framed(
    framed: Framed,
    fmt: str,
    *,
    client_ip_mode: ClientIpMode,
    client_ip_hash_key: str | None = None,
    options: FormatOptions | None = None,
) -> ParseResult:
    """Parse framed lines with format `fmt`; framing rejects are carried into the result.

    Returns:
        rows (client IPs already truncated/hashed per `client_ip_mode`) and rejects that
        together hold every line of `framed` not skipped as a comment or blank (every
        record, for Azure envelopes holding several).
    """
    parse = parser_for(fmt, options)
    parsed = parse(framed.lines) if framed.lines.num_rows else ParseResult.empty()
    rows = apply_client_key(parsed.rows, client_ip_mode, client_ip_hash_key)
    rejects = (
        pa.concat_tables([framed.rejects, parsed.rejects])
        if framed.rejects.num_rows
        else parsed.rejects
    )
    return ParseResult(rows, rejects)


def parse_or_quarantine(
    framed: Framed,
    requested: str,
    source: str,
    *,
    client_ip_mode: ClientIpMode,
    client_ip_hash_key: str | None = None,
    options: FormatOptions | None = None,
) -> tuple[str | None, ParseResult]:
    """Like `parse_framed`, but an unrecognised format quarantines the lines instead of raising."""
    try:
        fmt = resolve_format(requested, framed, source)
    except UnknownFormatError as exc:
        return None, reject_all(framed, Reason.UNKNOWN_FORMAT, str(exc))
    return fmt, parse_framed(
        framed,
        fmt,
        client_ip_mode=client_ip_mode,
        client_ip_hash_key=client_ip_hash_key,
        options=options,
    )
