"""Bytes to lines: decompression, line splitting, UTF-8 checks, W3C header directives.

Framing knows nothing about vendors. It turns a blob (a file, or a batch of Kafka
message values) into `RawLines` plus framing-stage rejects, vectorised with numpy and
Arrow: the only Python loop runs once per *invalid UTF-8 sequence*, never per line.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, cast

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from isal import igzip, isal_zlib

from ingest import line_scan
from ingest.errors import FramingError
from ingest.normalize import rejects_from
from ingest.records import QUARANTINE_SCHEMA, RAW_LINES_SCHEMA, Reason, Stage

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
MAX_LINE_BYTES = 1 << 20
_CONTROL_CHARS = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_FRAMING_REASONS = {
    0: None,
    1: Reason.INVALID_UTF8.value,
    2: Reason.LINE_TOO_LONG.value,
    3: Reason.BINARY_GARBAGE.value,
}


@dataclass(frozen=True)
class Framed:
    """Lines ready for a parser, framing rejects, and how many comment/blank lines were skipped."""

    lines: pa.Table
    rejects: pa.Table
    skipped: int

    @property
    def total(self) -> int:
        return self.lines.num_rows + self.rejects.num_rows


@dataclass(frozen=True)
class KafkaPositions:
    """Where each Kafka message of a concatenated batch starts, and its coordinates."""

    topic: str
    partition: int
    starts: np.ndarray  # byte offset of each message in the blob, ascending
    offsets: np.ndarray  # Kafka offset of each message


def compression_of(data: bytes) -> str | None:
    if data.startswith(GZIP_MAGIC):
        return "gzip"
    if data.startswith(ZSTD_MAGIC):
        return "zstd"
    return None


# What a corrupt or truncated stream raises: zlib-style errors from ISA-L, EOFError for
# a gzip member cut short, ArrowInvalid/OSError from Arrow's zstd stream.
# isal's stubs declare `error` as an instance; it is the exception class.
INFLATE_ERROR = cast(type[Exception], isal_zlib.error)
_STREAM_ERRORS = (OSError, EOFError, INFLATE_ERROR, pa.ArrowInvalid)


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def _open_stream(data: bytes, codec: str) -> _Readable:
    """A reader of the decompressed content. Gzip goes through ISA-L (igzip), which
    inflates about 1.6x faster than zlib: decompression is a large share of ingest."""
    if codec == "gzip":
        return igzip.GzipFile(fileobj=io.BytesIO(data))
    stream: _Readable = pa.CompressedInputStream(pa.BufferReader(data), codec)
    return stream


def decompress(data: bytes, name: str) -> bytes:
    """Plain, gzip (multi-member) or zstd content, by magic bytes, not by file name.

    Raises:
        FramingError: the name promises compression the bytes do not have, or the
            stream is corrupt or truncated.
    """
    codec = compression_of(data)
    if codec is None:
        if name.endswith((".gz", ".gzip", ".zst")):
            raise FramingError(
                name, Reason.BAD_COMPRESSION, "file name says compressed but content is not"
            )
        return data
    stream = _open_stream(data, codec)
    try:
        return bytes(stream.read())
    except _STREAM_ERRORS as exc:
        raise FramingError(
            name, Reason.BAD_COMPRESSION, f"corrupt or truncated {codec} stream: {exc}"
        ) from exc
    finally:
        stream.close()


def frame(
    data: bytes,
    *,
    source_file: str | None = None,
    kafka: KafkaPositions | None = None,
    first_line: int = 1,
    header: str | None = None,
) -> Framed:
    """Split `data` into lines with their source positions.

    Args:
        data: uncompressed text.
        source_file: file name for lineage (file ingest).
        kafka: message boundaries for lineage (Kafka ingest); line numbers restart at 1
            in each message.
        first_line: line number of the first line (files read in chunks).
        header: the `#Fields:` directive in force at the start of `data`.

    Returns:
        Framed lines; every line is in `lines`, in `rejects`, or counted in `skipped`.
    """
    if data and not data.endswith(b"\n"):
        data = data + b"\n"  # one copy of the blob beats special-casing the last line
    buf = np.frombuffer(data, dtype=np.uint8)
    starts, ends, next_starts = line_scan.line_bounds(buf)
    n = starts.size
    lengths = ends - starts

    # 0 = fine, else an index into _FRAMING_REASONS (first failing check wins).
    reason = np.zeros(n, dtype=np.int8)
    if not line_scan.is_utf8(buf):
        reason[line_scan.invalid_utf8_lines(buf, starts)] = 1
    reason[(lengths > MAX_LINE_BYTES) & (reason == 0)] = 2
    at = line_scan.control_lines(buf, starts, ends, n)
    reason[at[reason[at] == 0]] = 3
    ok = reason == 0
    first_byte = buf[np.minimum(starts, max(buf.size - 1, 0))] if n else starts
    directive = ok & (lengths > 0) & (first_byte == ord("#"))
    blank = ok & _blank_lines(buf, starts, ends)
    good = ok & ~directive & ~blank

    headers, header_idx = _header_ids(data, starts, ends, directive, header)
    lines = pa.table(
        {
            "raw": line_scan.compact(buf, starts, ends, next_starts, good),
            "header": pa.DictionaryArray.from_arrays(
                pa.array(header_idx[good], pa.int32(), mask=header_idx[good] < 0),
                pa.array(headers, pa.string()),
            ),
            **_lineage(starts, good, first_line, source_file, kafka),
        },
        schema=RAW_LINES_SCHEMA,
    )
    bad = np.flatnonzero(~ok)
    if bad.size:
        lineage = _lineage(starts, ~ok, first_line, source_file, kafka)
        frame_bad = pl.DataFrame(
            {
                "raw": pl.Series([data[starts[i] : ends[i]] for i in bad], dtype=pl.Binary),
                "_reason": pl.Series(reason[bad]).replace_strict(
                    _FRAMING_REASONS, return_dtype=pl.String
                ),
                "_detail": pl.Series([None] * bad.size, dtype=pl.String),
                **{k: pl.from_arrow(v) for k, v in lineage.items()},
            }
        )
        rejects = rejects_from(frame_bad, cdn=None, source_format=None, stage=Stage.FRAMING)
    else:
        rejects = QUARANTINE_SCHEMA.empty_table()
    return Framed(lines, rejects, int(directive.sum() + blank.sum()))


def _blank_lines(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Lines holding nothing but spaces and tabs (or nothing at all)."""
    lengths = ends - starts
    first = buf[np.minimum(starts, max(buf.size - 1, 0))] if starts.size else starts
    blank = lengths == 0
    # Only lines that start with white space can be blank; logs have few of them.
    for i in np.flatnonzero((lengths > 0) & ((first == 32) | (first == 9))):
        blank[i] = not bytes(buf[starts[i] : ends[i]]).strip()
    return blank


def _header_ids(
    data: bytes, starts: np.ndarray, ends: np.ndarray, directive: np.ndarray, header: str | None
) -> tuple[list[str | None], np.ndarray]:
    """Distinct `#Fields:` values and, per line, the index of the one in force (-1: none)."""
    headers: list[str | None] = [header]
    marker = np.full(starts.size, -1, dtype=np.int64)
    # Directives are a handful per file: a Python loop over them is cheap.
    for i in np.flatnonzero(directive):
        text = data[starts[i] : ends[i]].decode("utf-8")
        if text.startswith("#Fields:"):
            headers.append(text[len("#Fields:") :].strip())
            marker[i] = len(headers) - 1
    idx = np.maximum.accumulate(np.where(marker >= 0, marker, 0)) if starts.size else marker
    if header is None:
        idx = np.where(idx == 0, -1, idx)
    return headers, idx


def _lineage(
    starts: np.ndarray,
    keep: np.ndarray,
    first_line: int,
    source_file: str | None,
    kafka: KafkaPositions | None,
) -> dict[str, pa.Array]:
    """Lineage columns for the lines selected by `keep`."""
    n = int(keep.sum())
    zeros = np.zeros(n, dtype=np.int32)
    if kafka is not None:
        msg = np.searchsorted(kafka.starts, starts, side="right") - 1
        first_of_msg = np.searchsorted(starts, kafka.starts, side="left")
        line_in_msg = np.arange(starts.size) - first_of_msg[msg] + 1
        return {
            "_source_file": pa.nulls(n, pa.string()),
            "_source_line": pa.array(line_in_msg[keep].astype(np.int64)),
            "_source_topic": pa.DictionaryArray.from_arrays(zeros, pa.array([kafka.topic])),
            "_source_partition": pa.array(np.full(n, kafka.partition, dtype=np.int32)),
            "_source_offset": pa.array(kafka.offsets[msg][keep].astype(np.int64)),
        }
    line_no = np.arange(first_line, first_line + starts.size, dtype=np.int64)
    return {
        "_source_file": pa.DictionaryArray.from_arrays(zeros, pa.array([source_file], pa.string())),
        "_source_line": pa.array(line_no[keep]),
        "_source_topic": pa.nulls(n, pa.dictionary(pa.int32(), pa.string())),
        "_source_partition": pa.nulls(n, pa.int32()),
        "_source_offset": pa.nulls(n, pa.int64()),
    }


def last_header(framed: Framed) -> str | None:
    """The `#Fields:` directive in force after the last line (for chunked reading)."""
    col = framed.lines.column("header")
    return col[len(col) - 1].as_py() if len(col) else None


def join_lines(raw: pa.Array | pa.ChunkedArray) -> bytes:
    """The values of `raw` joined by newlines, vectorised (used by the JSON readers)."""
    return joined_buffer(raw).to_pybytes()


def joined_buffer(raw: pa.Array | pa.ChunkedArray, first: str | None = None) -> pa.Buffer:
    """Each value of `raw` (after `first`, when given) followed by a newline, in one buffer."""
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    if first is not None:
        raw = pa.concat_arrays([pa.array([first], raw.type), raw])
    if len(raw) == 0:
        return pa.py_buffer(b"")
    if raw.type != pa.large_string():
        raw = raw.cast(pa.large_string())
    empty, newline = pa.scalar("", pa.large_string()), pa.scalar("\n", pa.large_string())
    joined = pc.binary_join_element_wise(raw, empty, newline)
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int64)[
        joined.offset : joined.offset + len(joined) + 1
    ]
    start = int(offsets[0])
    return joined.buffers()[2].slice(start, int(offsets[-1]) - start)


def iter_chunks(data: bytes, name: str, chunk_bytes: int) -> Iterator[bytes]:
    """Decompressed content of `data` in pieces of about `chunk_bytes`, cut after a newline.

    Raises:
        FramingError: compression is promised by the name but absent, or the stream is
            corrupt; chunks already yielded stay valid.
    """
    codec = compression_of(data)
    if codec is None and name.endswith((".gz", ".gzip", ".zst")):
        raise FramingError(
            name, Reason.BAD_COMPRESSION, "file name says compressed but content is not"
        )
    stream: _Readable = pa.BufferReader(data) if codec is None else _open_stream(data, codec)
    carry = b""
    try:
        while True:
            piece = stream.read(chunk_bytes)
            if not piece:
                break
            cut = piece.rfind(b"\n")
            if cut < 0:
                carry += piece
                continue
            # One copy at most: the carried tail plus this piece up to its last newline.
            if carry or cut + 1 < len(piece):
                chunk = b"".join((carry, memoryview(piece)[: cut + 1]))
            else:
                chunk = piece
            carry = piece[cut + 1 :]
            yield chunk
    except _STREAM_ERRORS as exc:
        if carry:
            yield carry
        raise FramingError(
            name, Reason.BAD_COMPRESSION, f"corrupt or truncated {codec} stream: {exc}"
        ) from exc
    finally:
        stream.close()
    if carry:
        yield carry
