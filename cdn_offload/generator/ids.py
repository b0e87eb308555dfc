"""Vectorised random identifiers (request ids, ray ids, user ids) from one RNG draw each."""

from __future__ import annotations

import base64

import numpy as np
import polars as pl
import pyarrow as pa


def _fixed_width(text: bytes, n: int, width: int) -> pl.Series:
    """`n` strings of `width` ASCII characters cut from `text`, without a per-row loop."""
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))
    return pl.Series(pl.from_arrow(arr)).cast(pl.String)


def hex_ids(rng: np.random.Generator, n: int, nbytes: int) -> pl.Series:
    """`n` lower-case hex strings of `2 * nbytes` characters."""
    return _fixed_width(rng.bytes(n * nbytes).hex().encode("ascii"), n, 2 * nbytes)


def b64_ids(rng: np.random.Generator, n: int, nbytes: int) -> pl.Series:
    """`n` URL-safe base64 strings encoding `nbytes` random bytes each (`nbytes % 3 == 0`)."""
    if nbytes % 3:
        raise ValueError("nbytes must be a multiple of 3 so that blocks do not straddle rows")
    return _fixed_width(base64.urlsafe_b64encode(rng.bytes(n * nbytes)), n, nbytes // 3 * 4)
