"""Auto-detection of the log format from content, never from the file name."""

from __future__ import annotations

from ingest import formats
from ingest.errors import UnknownFormatError

SNIFF_LINES = 20


def detect(sample: list[str], header: str | None, source: str) -> str:
    """Name of the first format whose signature matches the sample lines.

    Args:
        sample: the first non-comment lines of the input (up to SNIFF_LINES).
        header: the W3C `#Fields:` directive, when the input has one.
        source: file or topic name, for the error message.

    Raises:
        UnknownFormatError: no supported format recognises the sample.
    """
    lines = [s for s in sample[:SNIFF_LINES] if s.strip()]
    if not lines and header is None:
        raise UnknownFormatError(source, "")
    for name in formats.FORMAT_MODULES:
        if formats.sniffer(name)(lines, header):
            return name
    raise UnknownFormatError(source, lines[0] if lines else header or "")
