"""Byte-level scans behind framing: line bounds, UTF-8 validity, control bytes, compaction.

Everything here works on a whole blob at once with numpy and Arrow kernels. The
common case (valid UTF-8, no stray control bytes, every line kept) costs a few
passes over the bytes and one copy; the per-line fallbacks only run on blobs that
actually hold bad bytes, and even then stay vectorised.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


def segments(buf: np.ndarray, starts: np.ndarray, next_starts: np.ndarray) -> pa.Array:
    """Zero-copy large_binary array whose value i is line i with its terminator."""
    offsets = np.empty(starts.size + 1, dtype=np.int64)
    offsets[:-1] = starts
    offsets[-1] = next_starts[-1] if next_starts.size else 0
    return pa.Array.from_buffers(
        pa.large_binary(), starts.size, [None, pa.py_buffer(offsets), pa.py_buffer(buf)]
    )


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

    When every kept line ends with a lone newline (the common case) the lines are cut,
    terminator and all, from the blob without copying, and one Arrow kernel drops the
    last byte of each; other terminators ('\\r\\n') go through a byte mask.
    """
    term = (next_starts - ends)[keep]
    if term.size == 0 or bool(np.all(term == 1)):
        segs = segments(buf, starts, next_starts)
        kept = segs if bool(keep.all()) else segs.filter(pa.array(keep))
        lines = pc.binary_slice(kept, 0, -1) if len(kept) else kept
        return lines.view(pa.large_string())
    lengths = (ends - starts)[keep]
    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    # Interleave (line, gap) runs: keep line bytes, drop terminators and unkept lines.
    run_start = np.concatenate([[0], ends[keep]])
    run_end = np.concatenate([starts[keep], [buf.size]])
    runs = np.empty(2 * lengths.size + 1, dtype=np.int64)
    runs[0::2] = run_end - run_start
    runs[1::2] = lengths
    flags = np.zeros(runs.size, dtype=bool)
    flags[1::2] = True
    values = buf[np.repeat(flags, runs)]
    return pa.LargeStringArray.from_buffers(
        lengths.size, pa.py_buffer(offsets), pa.py_buffer(values)
    )
