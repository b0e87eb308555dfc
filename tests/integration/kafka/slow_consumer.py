"""`cdn-offload` with every Parquet file write slowed down, so a test can kill it mid-batch.

Usage: python -m tests.integration.kafka.slow_consumer SECONDS_PER_FILE cdn-offload-args...
"""

from __future__ import annotations

import sys
import time
from typing import Any

import ingest.parquet_sink as parquet_sink
from cdn_offload.cli import main


def _slow(delay_s: float) -> None:
    write = parquet_sink._write_atomic

    def slow_write(*args: Any, **kwargs: Any) -> None:
        write(*args, **kwargs)
        time.sleep(delay_s)

    parquet_sink._write_atomic = slow_write


if __name__ == "__main__":
    _slow(float(sys.argv[1]))
    sys.exit(main(sys.argv[2:]))
