"""Parse one framed Kafka batch: pick the topic's format, or detect it robustly.

Detection runs per batch on its own content, so a replay of the same offset range
makes the same choice. A few poison lines at the head of a batch must not condemn
the rest, so several windows spread through the batch are tried before giving up.
"""

from __future__ import annotations

import pyarrow as pa

from ingest.config import IngestSettings
from ingest.detect import SNIFF_LINES, detect
from ingest.errors import UnknownFormatError
from ingest.framing import Framed
from ingest.pipeline import FormatOptions, parse_framed, reject_all
from ingest.records import ParseResult, Reason

DETECT_WINDOWS = 5


def detect_batch(framed: Framed, source: str) -> str | None:
    """The format recognised in one of a few windows of `framed`, or None."""
    n = framed.lines.num_rows
    if n == 0:
        return None
    starts = sorted({min(n - 1, k * n // DETECT_WINDOWS) for k in range(DETECT_WINDOWS)})
    for start in starts:
        head = framed.lines.slice(start, SNIFF_LINES)
        header = head.column("header")[0].as_py()
        try:
            return detect(head.column("raw").to_pylist(), header, source)
        except UnknownFormatError:
            continue
    return None


def parse_batch(
    framed: Framed, requested: str, topic: str, settings: IngestSettings
) -> tuple[str | None, ParseResult]:
    """Rows and rejects of a batch; with no recognisable format every line is quarantined.

    Returns:
        (format used or None, result holding every framed line and framing reject).
    """
    fmt: str | None = requested
    if requested == "auto":
        fmt = detect_batch(framed, f"topic {topic}")
    if framed.lines.num_rows == 0:
        return fmt, ParseResult(ParseResult.empty().rows, framed.rejects)
    if fmt is None:
        detail = f"topic {topic}: no supported log format recognised in this batch"
        return None, reject_all(framed, Reason.UNKNOWN_FORMAT, detail)
    result = parse_framed(
        framed,
        fmt,
        client_ip_mode=settings.client_ip_mode,
        client_ip_hash_key=settings.hash_key(),
        options=FormatOptions.of(settings),
    )
    return fmt, result


def reject_counts(rejects: pa.Table) -> dict[str, int]:
    """Quarantined records per reason code."""
    if rejects.num_rows == 0:
        return {}
    counts = rejects.column("reason_code").value_counts().to_pylist()
    return {item["values"]: item["counts"] for item in counts}
