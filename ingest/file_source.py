"""Ingest log files and directories (plain, gzip or zstd) into canonical Parquet.

Each file is read in chunks of bounded size; each chunk's rows go to files named after
the file's content hash and the chunk number, so ingesting the same input twice
rewrites the same Parquet files and never duplicates a row. A file that cannot be
read as a log (bad compression, binary content, no recognised format) is reported by
name with its reason; the run goes on with the other files.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from ingest.config import IngestSettings
from ingest.errors import FramingError, UnknownFormatError
from ingest.framing import Framed, frame, iter_chunks, last_header
from ingest.parquet_sink import ParquetSink
from ingest.pipeline import RunSummary, parse_framed, resolve_format
from ingest.records import Reason
from ingest.storage import resolve

log = logging.getLogger(__name__)

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
    try:
        for index, chunk in enumerate(iter_chunks(data, path.name, settings.chunk_bytes)):
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
            )
            stem = f"file-{digest}-{index:05d}"
            written = sink.write_rows(result.rows, stem)
            written += sink.write_quarantine(result.rejects, "file", stem)
            summary.files_written += len(written)
            summary.add(fmt, result, framed.skipped)
    except FramingError as exc:
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
