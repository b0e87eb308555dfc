"""Allocator settings that keep freed memory for reuse instead of handing it back at once.

Ingest allocates and frees buffers of tens of MB per chunk (decompressed text, string
columns, Parquet pages). With their default settings the three allocators involved
return those pages to the kernel almost immediately: Polars configures its jemalloc
to purge after 0.5-1 s, Arrow's mimalloc purges after 10 ms, glibc (numpy) unmaps every block above
its mmap threshold. Each new chunk then page-faults its memory back in, which measured
here as 25-40% of parse time in kernel page-fault handling. Keeping freed pages for 30 s
(jemalloc, mimalloc) and serving numpy's blocks from the heap removes most of that; a
process that goes idle still returns its memory after the delay.

`tune()` must run before Polars and pyarrow are first imported: jemalloc and mimalloc
read their settings from the environment when they initialise. Settings already in the
environment win, so an operator can override any of them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

RETAIN_MS = 30_000
_ENV = {
    # Polars' bundled jemalloc (prefixed build). Polars prepends its own defaults to
    # this variable at import; jemalloc takes the last value given for an option.
    "_RJEM_MALLOC_CONF": f"dirty_decay_ms:{RETAIN_MS},muzzy_decay_ms:{RETAIN_MS}",
    # Arrow's default memory pool on Linux.
    "MIMALLOC_PURGE_DELAY": str(RETAIN_MS),
}
# glibc mallopt parameters (malloc.h) and values: blocks up to 32 MiB (glibc's maximum
# mmap threshold) come from the heap; up to 256 MiB free at its top is kept.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD, _TRIM_THRESHOLD = 32 << 20, 256 << 20


def tune() -> None:
    """Set the allocator options above unless the environment already sets them."""
    for name, value in _ENV.items():
        os.environ.setdefault(name, value)
    if sys.platform.startswith("linux") and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        _glibc_keep_heap()


def _glibc_keep_heap() -> None:
    name = ctypes.util.find_library("c")
    if name is None:  # not glibc (e.g. musl): nothing to tune
        return
    libc = ctypes.CDLL(name)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
