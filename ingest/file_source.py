"""Ingest log files and directories (plain, gzip or zstd) into canonical Parquet.

Each file is parsed in pieces of bounded size, and the rows of up to `chunk_bytes` of
input go to files named after the file's content hash and their sequence number, so
ingesting the same input twice rewrites the same Parquet files and never duplicates a
row. A file that cannot be
read as a log (bad compression, binary content, no recognised format) is reported by
name with its reason; the run goes on with the other files.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa

from ingest.config import IngestSettings
from ingest.errors import FramingError, UnknownFormatError
from ingest.framing import Framed, frame, iter_chunks, last_header
from ingest.parquet_sink import ParquetSink
from ingest.pipeline import FormatOptions, RunSummary, parse_framed, resolve_format
from ingest.records import ParseResult, Reason
from ingest.storage import resolve

log = logging.getLogger(__name__)
# Decompressed bytes parsed at a time: measured fastest at 16-32 MiB on CloudFront
# logs (64 MiB pieces page-fault and miss the caches more).
PARSE_BYTES = 16 << 20

Progress = Callable[[int], None]


def expand_inputs(paths: Iterable[str]) -> list[Path]:
    """Files named, plus every non-hidden file below the directories named, sorted.

    Raises:
        FileNotFoundError: a named path does not exist.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files.extend(Path(root) / n for n in sorted(names) if not n.startswith("."))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"input {raw} does not exist")
    return files


def _looks_binary(chunk: bytes) -> bool:
    """More than 5% control bytes in the first 8 KiB: an image or archive, not a text log.

    One corrupted line does not make a whole log binary; framing quarantines such lines.
    """
    head = chunk[:8192]
    control = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 13))
    return control > len(head) // 20


class _Batches:
    """Parse results of one file, written together once they cover `chunk_bytes` of input.

    Parsing goes in pieces of at most PARSE_BYTES, whose working set stays in the CPU
    caches; output files still hold up to `chunk_bytes` of input each. Piece and file
    boundaries depend only on the content and the settings, so names stay deterministic.
    """

    def __init__(self, sink: ParquetSink, summary: RunSummary, digest: str, chunk_bytes: int):
        self.sink, self.summary, self.digest, self.chunk_bytes = sink, summary, digest, chunk_bytes
        self.pending: list[tuple[str, ParseResult, int]] = []
        self.pending_bytes = 0
        self.flushed = 0

    def add(self, fmt: str, result: ParseResult, skipped: int, size: int) -> None:
        self.pending.append((fmt, result, skipped))
        self.pending_bytes += size
        if self.pending_bytes >= self.chunk_bytes:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        rows = pa.concat_tables([result.rows for _, result, _ in self.pending])
        rejects = pa.concat_tables([result.rejects for _, result, _ in self.pending])
        stem = f"file-{self.digest}-{self.flushed:05d}"
        written = self.sink.write_rows(rows, stem)
        written += self.sink.write_quarantine(rejects, "file", stem)
        self.summary.files_written += len(written)
        for fmt, result, skipped in self.pending:
            self.summary.add(fmt, result, skipped)
        self.pending, self.pending_bytes = [], 0
        self.flushed += 1


def ingest_file(
    path: Path, settings: IngestSettings, sink: ParquetSink, summary: RunSummary
) -> None:
    """Parse one file into `sink`, recording counts and any failure in `summary`."""
    name = str(path)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:20]
    fmt: str | None = None if settings.format == "auto" else settings.format
    header: str | None = None
    first_line = 1
    batches = _Batches(sink, summary, digest, settings.chunk_bytes)
    piece_bytes = min(settings.chunk_bytes, PARSE_BYTES)
    try:
        for index, chunk in enumerate(iter_chunks(data, path.name, piece_bytes)):
            if index == 0 and _looks_binary(chunk):
                raise FramingError(name, Reason.NOT_A_LOG, "binary content, not a text log")
            framed: Framed = frame(chunk, source_file=name, first_line=first_line, header=header)
            first_line += framed.total + framed.skipped
            header = last_header(framed) or header
            if fmt is None:
                fmt = resolve_format("auto", framed, name)
            result = parse_framed(
                framed,
                fmt,
                client_ip_mode=settings.client_ip_mode,
                client_ip_hash_key=settings.hash_key(),
                options=FormatOptions.of(settings),
            )
            batches.add(fmt, result, framed.skipped, len(chunk))
        batches.flush()
    except FramingError as exc:
        batches.flush()  # what was read before the damage is good
        log.error("Input is not a readable log.", extra={"file": name, "reason": exc.reason})
        summary.failed_inputs.append(
            {"file": name, "reason": str(exc.reason), "detail": exc.detail}
        )
    except UnknownFormatError as exc:
        summary.failed_inputs.append(
            {"file": name, "reason": Reason.UNKNOWN_FORMAT.value, "detail": str(exc)}
        )


def ingest_files(
    paths: Iterable[str], settings: IngestSettings, progress: Progress | None = None
) -> RunSummary:
    """Ingest every input into `settings.out`; returns the run's counters.

    Raises:
        FileNotFoundError: an input path does not exist (checked before any work).
        SinkError: the output cannot be written (terminal for the run).
    """
    files = expand_inputs(paths)
    sink = ParquetSink(
        resolve(settings.out),
        compression=settings.parquet_compression,
        row_group_size=settings.row_group_size,
    )
    summary = RunSummary()
    for path in files:
        summary.files += 1
        ingest_file(path, settings, sink, summary)
        if progress:
            progress(path.stat().st_size)
    return summary
