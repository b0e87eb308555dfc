"""Hourly gzip files per CDN, appended chunk after chunk, published atomically."""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import BinaryIO


@dataclass(frozen=True)
class WrittenFile:
    """One finished log file."""

    path: str  # relative to the output directory
    cdn: str
    format: str
    hour_ms: int
    rows: int
    bytes: int  # compressed size on disk
    raw_bytes: int  # uncompressed size


@dataclass
class _Open:
    final: Path
    temp: Path
    handle: BinaryIO
    stream: gzip.GzipFile
    writer: ModuleType
    hour_ms: int
    rows: int = 0
    raw_bytes: int = 0


class HourlyFiles:
    """One gzip stream per (CDN, hour). Files appear under their final name only when closed.

    Output bytes depend only on the data written and the seed (gzip mtime is 0 and
    file names carry a token derived from seed, CDN and hour), so runs are reproducible.
    """

    def __init__(self, root: Path, *, seed: int, compresslevel: int) -> None:
        self.root = root
        self.seed = seed
        self.compresslevel = compresslevel
        self._open: dict[tuple[str, int], _Open] = {}
        self.done: list[WrittenFile] = []

    def _token(self, cdn: str, hour_ms: int) -> str:
        digest = hashlib.blake2b(f"{self.seed}:{cdn}:{hour_ms}".encode(), digest_size=5)
        return digest.hexdigest()

    def append(self, writer: ModuleType, hour_ms: int, data: bytes | memoryview, rows: int) -> None:
        """Append newline-terminated lines of `writer.CDN` for the hour starting at `hour_ms`."""
        key = (writer.CDN, hour_ms)
        f = self._open.get(key)
        if f is None:
            final = (
                self.root / writer.CDN / writer.file_name(hour_ms, self._token(writer.CDN, hour_ms))
            )
            final.parent.mkdir(parents=True, exist_ok=True)
            temp = final.with_name(final.name + ".part")
            handle = open(temp, "wb")  # noqa: SIM115 - closed in _close
            stream = gzip.GzipFile(
                filename="", mode="wb", fileobj=handle, compresslevel=self.compresslevel, mtime=0
            )
            f = self._open[key] = _Open(final, temp, handle, stream, writer, hour_ms)
            head = writer.header(hour_ms)
            stream.write(head)
            f.raw_bytes += len(head)
        f.stream.write(data)
        f.rows += rows
        f.raw_bytes += len(data)

    def close_before(self, hour_ms: int) -> None:
        """Finish every file of an hour earlier than `hour_ms` (no more rows will come)."""
        for key in [k for k in self._open if k[1] < hour_ms]:
            self._close(key)

    def close(self) -> list[WrittenFile]:
        """Finish all files; returns every file written, sorted by path."""
        for key in list(self._open):
            self._close(key)
        return sorted(self.done, key=lambda w: w.path)

    def abort(self) -> None:
        """Drop unfinished files (after an error)."""
        for f in self._open.values():
            f.stream.close()
            f.handle.close()
            f.temp.unlink(missing_ok=True)
        self._open.clear()

    def _close(self, key: tuple[str, int]) -> None:
        f = self._open.pop(key)
        f.stream.close()
        f.handle.close()
        os.replace(f.temp, f.final)
        self.done.append(
            WrittenFile(
                str(f.final.relative_to(self.root)),
                f.writer.CDN,
                f.writer.FORMAT,
                f.hour_ms,
                f.rows,
                f.final.stat().st_size,
                f.raw_bytes,
            )
        )
