"""Progress bars on a terminal, silence elsewhere (pipes, CI, --json)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn


@contextmanager
def byte_progress(
    total: int, label: str, *, quiet: bool = False
) -> Iterator[Callable[[int], None] | None]:
    """Yield an `advance(n_bytes)` callback drawing a bar on a TTY, or None when not attached to one."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    columns = (TextColumn(label), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)
