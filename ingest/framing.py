"""Bytes to lines: decompression, line splitting, UTF-8 checks, W3C header directives.

Framing knows nothing about vendors. It turns a blob (a file, or a batch of Kafka
message values) into `RawLines` plus framing-stage rejects, vectorised with numpy and
Arrow: the only Python loop runs once per *invalid UTF-8 sequence*, never per line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

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
    try:
        with pa.CompressedInputStream(pa.BufferReader(data), codec) as stream:
            return bytes(stream.read())
    except (OSError, pa.ArrowInvalid) as exc:
        raise FramingError(
            name, Reason.BAD_COMPRESSION, f"corrupt or truncated {codec} stream: {exc}"
        ) from exc


def _line_bounds(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    newlines = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    ends = np.concatenate((newlines, [buf.size])).astype(np.int64)
    if starts[-1] == buf.size:  # terminated last line: no empty record after it
        starts, ends = starts[:-1], ends[:-1]
    # Drop a '\r' before the '\n'.
    has_cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    ends = ends - has_cr
    return starts, ends


def _invalid_utf8_lines(data: bytes, starts: np.ndarray) -> np.ndarray:
    """Indices of lines holding invalid UTF-8; loops once per bad sequence only."""
    bad: list[int] = []
    pos = 0
    while pos < len(data):
        try:
            data[pos:].decode("utf-8")
            break
        except UnicodeDecodeError as exc:
            where = pos + exc.start
            line = int(np.searchsorted(starts, where, side="right")) - 1
            bad.append(line)
            nxt = line + 1
            pos = int(starts[nxt]) if nxt < starts.size else len(data)
    return np.asarray(bad, dtype=np.int64)


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
    buf = np.frombuffer(data, dtype=np.uint8)
    starts, ends = _line_bounds(buf)
    n = starts.size
    line_no = np.arange(first_line, first_line + n, dtype=np.int64)
    lineage: dict[str, pa.Array] = {}
    if kafka is not None:
        msg = np.searchsorted(kafka.starts, starts, side="right") - 1
        first_of_msg = np.searchsorted(starts, kafka.starts, side="left")
        lineage["_source_line"] = pa.array(np.arange(n) - first_of_msg[msg] + 1)
        lineage["_source_topic"] = pa.array(np.full(n, kafka.topic, dtype=object), pa.string())
        lineage["_source_partition"] = pa.array(np.full(n, kafka.partition, dtype=np.int32))
        lineage["_source_offset"] = pa.array(kafka.offsets[msg].astype(np.int64))
    else:
        lineage["_source_line"] = pa.array(line_no)
    lineage.setdefault("_source_file", pa.array(np.full(n, source_file, dtype=object), pa.string()))
    for name in ("_source_topic", "_source_partition", "_source_offset"):
        lineage.setdefault(name, pa.nulls(n, RAW_LINES_SCHEMA.field(name).type))

    # Zero-copy view of the buffer; each value still ends with its terminator.
    bounds = np.concatenate((starts, [buf.size])).astype(np.int64)
    with_eol = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(bounds), pa.py_buffer(data)]
    )
    lengths = ends - starts
    eol = bounds[1:] - ends  # 0, 1 ('\n') or 2 ('\r\n')
    raw = pc.binary_slice(with_eol, 0, -1)
    raw = pc.if_else(pa.array(eol == 0), with_eol, raw)
    raw = pc.if_else(pa.array(eol == 2), pc.binary_slice(raw, 0, -1), raw)

    # 0 = fine, else an index into _FRAMING_REASONS (first failing check wins).
    reason = np.zeros(n, dtype=np.int8)
    reason[_invalid_utf8_lines(data, starts)] = 1
    reason[(lengths > MAX_LINE_BYTES) & (reason == 0)] = 2
    ok = reason == 0
    # Cast is safe once invalid lines are blanked out.
    text = pc.if_else(pa.array(ok), raw, pa.scalar(b"", pa.large_binary())).cast(pa.large_string())
    garbage = np.asarray(pc.fill_null(pc.match_substring_regex(text, _CONTROL_CHARS), False))
    reason[garbage & ok] = 3

    frame_df = pl.DataFrame(
        {
            "raw": pl.from_arrow(raw),
            "text": pl.from_arrow(text),
            "_reason": pl.Series(reason).replace_strict(_FRAMING_REASONS, return_dtype=pl.String),
            **{k: pl.from_arrow(v) for k, v in lineage.items()},
        }
    )
    stripped = pl.col("text").str.strip_chars()
    is_directive = pl.col("_reason").is_null() & pl.col("text").str.starts_with("#")
    is_blank = pl.col("_reason").is_null() & (stripped == "")
    fields_value = pl.col("text").str.replace(r"^#Fields:\s*", "").str.strip_chars()
    frame_df = frame_df.with_columns(
        pl.when(is_directive & pl.col("text").str.contains(r"^#Fields:"))
        .then(fields_value)
        .otherwise(None)
        .forward_fill()
        .fill_null(pl.lit(header, dtype=pl.String))
        .alias("header"),
        is_directive.alias("_directive"),
        is_blank.alias("_blank"),
    )
    skipped = int(frame_df.select((pl.col("_directive") | pl.col("_blank")).sum()).item())
    good = frame_df.filter(pl.col("_reason").is_null() & ~pl.col("_directive") & ~pl.col("_blank"))
    bad = frame_df.filter(pl.col("_reason").is_not_null()).with_columns(
        pl.lit(None, dtype=pl.String).alias("_detail")
    )
    lines = (
        good.select(
            pl.col("text").alias("raw"),
            "header",
            "_source_file",
            "_source_line",
            "_source_topic",
            "_source_partition",
            "_source_offset",
        )
        .to_arrow()
        .cast(RAW_LINES_SCHEMA)
    )
    rejects = (
        rejects_from(bad, cdn=None, source_format=None, stage=Stage.FRAMING)
        if bad.height
        else QUARANTINE_SCHEMA.empty_table()
    )
    return Framed(lines, rejects, skipped)


def last_header(framed: Framed) -> str | None:
    """The `#Fields:` directive in force after the last line (for chunked reading)."""
    col = framed.lines.column("header")
    return col[-1].as_py() if len(col) else None


def join_lines(raw: pa.Array | pa.ChunkedArray) -> bytes:
    """The values of `raw` joined by newlines, vectorised (used by the JSON readers)."""
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    if len(raw) == 0:
        return b""
    raw = raw.cast(pa.large_string())
    empty, newline = pa.scalar("", pa.large_string()), pa.scalar("\n", pa.large_string())
    joined = pc.binary_join_element_wise(raw, empty, newline)
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int64)[
        joined.offset : joined.offset + len(joined) + 1
    ]
    return joined.buffers()[2].to_pybytes()[int(offsets[0]) : int(offsets[-1])]


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
    stream: pa.NativeFile = pa.BufferReader(data)
    if codec is not None:
        stream = pa.CompressedInputStream(stream, codec)
    carry = b""
    try:
        while True:
            piece = stream.read(chunk_bytes)
            if not piece:
                break
            block = carry + piece
            cut = block.rfind(b"\n")
            if cut < 0:
                carry = block
                continue
            carry = block[cut + 1 :]
            yield block[: cut + 1]
    except (OSError, pa.ArrowInvalid) as exc:
        if carry:
            yield carry
        raise FramingError(
            name, Reason.BAD_COMPRESSION, f"corrupt or truncated {codec} stream: {exc}"
        ) from exc
    finally:
        stream.close()
    if carry:
        yield carry
