"""Benchmark `cdn-offload generate`: rows per second, bytes per row, peak memory.

    PYTHONPATH=. .venv/bin/python -m bench.bench_generate --rows 20000000 --out /tmp/match

Prints one JSON object. Peak RSS is the process high-water mark, so it shows whether
memory stays bounded by the chunk size as the row count grows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time

from cdn_offload.generator import GeneratorConfig, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument(
        "--out", default=None, help="output directory (default: a temp dir, removed)"
    )
    parser.add_argument("--chunk-rows", type=int, default=1_000_000)
    parser.add_argument("--compresslevel", type=int, default=1)
    args = parser.parse_args()
    config = GeneratorConfig(
        rows=args.rows, chunk_rows=args.chunk_rows, compresslevel=args.compresslevel
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or tmp
        began, cpu = time.perf_counter(), time.process_time()
        summary = generate(config, out, replace=True)
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    gz = sum(f.bytes for f in summary.files)
    raw = sum(f.raw_bytes for f in summary.files)
    by_cdn = {
        cdn: {
            "rows": sum(f.rows for f in summary.files if f.cdn == cdn),
            "gzip_bytes": sum(f.bytes for f in summary.files if f.cdn == cdn),
            "raw_bytes": sum(f.raw_bytes for f in summary.files if f.cdn == cdn),
        }
        for cdn in config.cdns
    }
    print(
        json.dumps(
            {
                "rows": summary.rows,
                "files": len(summary.files),
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "rows_per_s": round(summary.rows / wall),
                "cores": os.cpu_count(),
                "gzip_bytes": gz,
                "raw_bytes": raw,
                "gzip_bytes_per_row": round(gz / max(summary.rows, 1), 1),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                "by_cdn": by_cdn,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
