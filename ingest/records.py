"""The tables that pass between framing, format parsers and sinks.

`RawLines` is what framing produces and every `formats/<vendor>.parse` consumes: one
row per log line with its text and source position. `ParseResult` is what a parser
returns: canonical rows and rejected rows, which together account for every input
line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa

from ingest.schema import CANONICAL_SCHEMA, UTC_MS


class Stage(StrEnum):
    FRAMING = "framing"
    PARSING = "parsing"
    WRITING = "writing"


class Reason(StrEnum):
    """Low-cardinality reason codes for quarantined records. Never a raw exception text."""

    INVALID_UTF8 = "invalid_utf8"
    BINARY_GARBAGE = "binary_garbage"
    LINE_TOO_LONG = "line_too_long"
    OVERSIZED_MESSAGE = "oversized_message"
    BAD_COMPRESSION = "bad_compression"
    NOT_A_LOG = "not_a_log"
    UNKNOWN_FORMAT = "unknown_format"
    MISSING_HEADER = "missing_header"
    BAD_FIELD_COUNT = "bad_field_count"
    BAD_JSON = "bad_json"
    BAD_FIELD_TYPE = "bad_field_type"
    MISSING_FIELD = "missing_field"
    BAD_TIMESTAMP = "bad_timestamp"
    BAD_STATUS = "bad_status"
    BAD_METHOD = "bad_method"
    BAD_PATH = "bad_path"
    BAD_NUMBER = "bad_number"
    WRITE_FAILED = "write_failed"


# RawLines: `raw` is valid UTF-8 text without the line terminator (framing quarantines
# invalid UTF-8 before a parser sees it). `header` carries the active W3C `#Fields:`
# directive for CloudFront standard logs and is null elsewhere. Columns that repeat one
# value per batch are dictionary-encoded, so a batch costs no per-line copies of them.
RAW_LINES_SCHEMA = pa.schema(
    [
        pa.field("raw", pa.large_string(), nullable=False),
        pa.field("header", pa.dictionary(pa.int32(), pa.string())),
        pa.field("_source_file", pa.dictionary(pa.int32(), pa.string())),
        pa.field("_source_line", pa.int64()),
        pa.field("_source_topic", pa.dictionary(pa.int32(), pa.string())),
        pa.field("_source_partition", pa.int32()),
        pa.field("_source_offset", pa.int64()),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("raw", pa.binary()),
        pa.field("_source_file", pa.string()),
        pa.field("_source_line", pa.int64()),
        pa.field("_source_topic", pa.string()),
        pa.field("_source_partition", pa.int32()),
        pa.field("_source_offset", pa.int64()),
        pa.field("vendor", pa.string()),
        pa.field("source_format", pa.string()),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason_code", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
        pa.field("ingested_at", UTC_MS, nullable=False),
    ]
)

RawLines = pa.Table


@dataclass(frozen=True)
class ParseResult:
    """Output of one parser call: `rows` follow CANONICAL_SCHEMA, `rejects` QUARANTINE_SCHEMA."""

    rows: pa.Table
    rejects: pa.Table

    @property
    def total(self) -> int:
        return self.rows.num_rows + self.rejects.num_rows

    @staticmethod
    def empty() -> ParseResult:
        return ParseResult(CANONICAL_SCHEMA.empty_table(), QUARANTINE_SCHEMA.empty_table())


def concat_results(results: list[ParseResult]) -> ParseResult:
    """Concatenate parser outputs (schemas are fixed, so this never needs promotion)."""
    if not results:
        return ParseResult.empty()
    return ParseResult(
        pa.concat_tables([r.rows for r in results]),
        pa.concat_tables([r.rejects for r in results]),
    )
