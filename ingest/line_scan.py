"""Byte-level scans behind framing: line bounds, UTF-8 validity, control bytes, compaction.

Everything here works on a whole blob at once with numpy and Arrow kernels. The
common case (valid UTF-8, no stray control bytes, every line kept) costs a few
passes over the bytes and one copy; the per-line fallbacks only run on blobs that
actually hold bad bytes, and even then stay vectorised.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_NEWLINE, _CR, _TAB = 10, 13, 9


def line_bounds(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, next_starts) of the lines of `buf`, which must end with a newline.

    `ends` excludes the newline and one '\\r' before it; `next_starts[i]` is where line
    i+1 begins (so `buf[starts[i]:next_starts[i]]` is line i with its terminator).
    """
    newlines = np.flatnonzero(buf == _NEWLINE)
    next_starts = newlines + 1
    starts = np.empty_like(next_starts)
    starts[:1] = 0
    starts[1:] = next_starts[:-1]
    ends = newlines
    has_cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == _CR)
    if bool(has_cr.any()):
        ends = ends - has_cr
    return starts, ends, next_starts


def is_utf8(data: bytes | np.ndarray) -> bool:
    """True when the whole blob is valid UTF-8 (Arrow's SIMD validator, one pass)."""
    size = len(data)
    one = pa.LargeStringArray.from_buffers(
        1, pa.py_buffer(np.array([0, size], dtype=np.int64)), pa.py_buffer(data)
    )
    try:
        one.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def invalid_utf8_lines(buf: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Indices of the lines holding an invalid UTF-8 sequence (RFC 3629), vectorised.

    Line i is `buf[starts[i]:starts[i+1]]` (the last one runs to the end): the lines of
    a blob, or the values of a string array's data buffer.

    Only bytes >= 0x80 are examined: each must be a valid lead byte whose continuation
    bytes follow it, or a continuation byte claimed by such a lead.
    """
    pos = np.flatnonzero(buf >= 0x80)
    if pos.size == 0:
        return np.empty(0, dtype=np.int64)
    byte = buf[pos].astype(np.int16)
    cont = (byte & 0xC0) == 0x80
    need = np.select([byte >= 0xF0, byte >= 0xE0, byte >= 0xC0], [3, 2, 1], 0)
    lead_ok = ~cont & (byte >= 0xC2) & (byte <= 0xF4)
    # Pad so that looking up to three high bytes ahead never leaves the arrays.
    pad_pos = np.concatenate([pos, np.full(3, -8, dtype=pos.dtype)])
    pad_byte = np.concatenate([byte, np.zeros(3, dtype=byte.dtype)])
    idx = np.arange(pos.size)
    # A sequence never spans two lines (values): its bytes must share the lead's line.
    line = np.searchsorted(starts, pos, side="right") - 1
    pad_line = np.concatenate([line, np.full(3, -1, dtype=line.dtype)])
    second = pad_byte[idx + 1]
    low = np.select([byte == 0xE0, byte == 0xF0], [0xA0, 0x90], 0x80)
    high = np.select([byte == 0xED, byte == 0xF4], [0x9F, 0x8F], 0xBF)
    for k in (1, 2, 3):
        ahead = pad_byte[idx + k]
        fits = (pad_pos[idx + k] == pos + k) & (pad_line[idx + k] == line)
        fits &= (ahead & 0xC0) == 0x80
        if k == 1:
            fits &= (second >= low) & (second <= high)
        lead_ok &= fits | (need < k)
    claimed = np.zeros(pos.size + 3, dtype=bool)
    for k in (1, 2, 3):
        claimed[idx[lead_ok & (need >= k)] + k] = True
    bad = np.where(cont, ~claimed[: pos.size], ~lead_ok)
    return np.unique(line[bad]).astype(np.int64)


def control_lines(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, newlines: int
) -> np.ndarray:
    """Indices of lines holding a control byte other than TAB (a '\\r' ends no line here).

    Bytes < 0x20 are counted first: when they are all newlines, TABs and '\\r', nothing
    else is done.
    """
    low = int(np.count_nonzero(buf < 0x20))
    if low == newlines:
        return np.empty(0, dtype=np.int64)
    allowed = newlines + int(np.count_nonzero(buf == _TAB))
    if low == allowed or low == allowed + int(np.count_nonzero(buf == _CR)):
        return np.empty(0, dtype=np.int64)
    found = np.flatnonzero((buf < 0x20) & (buf != _TAB) & (buf != _NEWLINE) & (buf != _CR))
    at = np.searchsorted(starts, found, side="right") - 1
    return np.unique(at[found < ends[at]])


def compact(
    buf: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    next_starts: np.ndarray,
    keep: np.ndarray,
) -> pa.Array:
    """Large string array of buf[starts[i]:ends[i]] for the lines selected by `keep`.

    The lines become string views into the blob (a few vector operations per line,
    whatever its length), which one Arrow cast copies out contiguously: 4x cheaper than
    slicing terminators off segments, and 20x cheaper when lines are dropped (a file's
    header directives), which made Arrow filter the segments first.
    """
    begin, length = starts[keep], (ends - starts)[keep]
    if buf.size >= _VIEW_LIMIT:  # views address their buffer with int32 offsets
        return _copy_lines(buf, begin, length)
    views = string_views(pa.py_buffer(buf), begin, length)
    return views.cast(pa.large_string())


_VIEW_LIMIT = 1 << 31


def _copy_lines(buf: np.ndarray, begin: np.ndarray, length: np.ndarray) -> pa.Array:
    """compact() for blobs of 2 GiB and more: a byte mask over the blob."""
    offsets = np.zeros(length.size + 1, dtype=np.int64)
    np.cumsum(length, out=offsets[1:])
    mark = np.zeros(buf.size + 1, dtype=np.int32)
    np.add.at(mark, begin, 1)
    np.add.at(mark, begin + length, -1)
    values = buf[np.cumsum(mark[:-1]) > 0]
    return pa.LargeStringArray.from_buffers(
        length.size, pa.py_buffer(offsets), pa.py_buffer(values)
    )


_INLINE = 12  # a string view holds values of up to 12 bytes itself
_ONE, _HALF, _BYTE = np.uint64(1), np.uint64(32), np.uint64(8)
_FULL = np.uint64(0xFFFFFFFFFFFFFFFF)


def string_views(buffer: pa.Buffer, begin: np.ndarray, length: np.ndarray) -> pa.Array:
    """A string-view array of buffer[begin[i] : begin[i] + length[i]], sharing `buffer`.

    A view is 16 bytes: the length (int32), then the value itself when it fits in 12
    bytes, else its first 4 bytes, the buffer index (0) and the offset (int32 each).
    The buffer read as aligned little-endian uint64 words gives any 8 bytes with two
    word reads and shifts. Values must be valid UTF-8 (framing has checked them).
    """
    n = begin.size
    whole = buffer.size // 8
    words = np.frombuffer(buffer, dtype="<u8", count=whole) if whole else np.zeros(1, np.uint64)
    at = begin >> 3
    shift = ((begin & 7) * 8).astype(np.uint64)
    back = np.uint64(63) - shift  # (x << back) << 1 is x << (64 - shift), and 0 for shift 0
    g0 = np.take(words, at, mode="clip")
    g1 = np.take(words, at + 1, mode="clip")
    first8 = (g0 >> shift) | ((g1 << back) << _ONE)
    size = length.astype(np.uint64)
    views = np.empty((n, 2), dtype=np.uint64)
    views[:, 0] = size | (first8 << _HALF)  # length, then the first 4 bytes
    views[:, 1] = begin.astype(np.uint64) << _HALF  # buffer 0, then the offset
    short = np.flatnonzero(length <= _INLINE)
    if short.size:
        s_size = size[short]
        head = first8[short] & _byte_mask(s_size)
        g2 = np.take(words, at[short] + 2, mode="clip")
        rest = (g1[short] >> shift[short]) | ((g2 << back[short]) << _ONE)
        rest &= _byte_mask(s_size - np.minimum(s_size, _BYTE))
        views[short, 0] = s_size | (head << _HALF)
        views[short, 1] = (head >> _HALF) | (rest << _HALF)
    # Values whose 16-byte window passes the last whole word (at most a couple): bytes.
    tail = np.flatnonzero(begin + 16 > whole * 8)
    if tail.size:
        data = np.frombuffer(buffer, dtype=np.uint8)
        for i in tail.tolist():
            value = data[begin[i] : begin[i] + length[i]].tobytes()
            row = int(length[i]).to_bytes(4, "little")
            if length[i] <= _INLINE:
                row += value.ljust(_INLINE, b"\0")
            else:
                row += value[:4] + bytes(4) + int(begin[i]).to_bytes(4, "little")
            views[i] = np.frombuffer(row, dtype=np.uint64)
    return pa.Array.from_buffers(pa.string_view(), n, [None, pa.py_buffer(views), buffer])


def _byte_mask(count: np.ndarray) -> np.ndarray:
    """uint64 masks of the low min(count, 8) bytes."""
    bits = np.minimum(count, _BYTE) * _BYTE
    return np.where(bits >= 64, _FULL, (_ONE << np.minimum(bits, np.uint64(63))) - _ONE)
