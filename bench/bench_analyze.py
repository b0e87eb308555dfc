"""Benchmark `analyze`: from raw Parquet and from stored minute rollups.

Generates N synthetic canonical rows (numpy, see bench/analyze_data.py) in the raw
layout, then times, in one process:
- analyze from raw files (the rollup is computed on the fly, DuckDB);
- the live rollup from scratch (Polars, hour by hour) and the batch rebuild (DuckDB);
- analyze from stored rollups;
and reports the rollup size ratio. Targets (issue 4, 2-core box): 50M rows under 15 s
from raw, under 0.5 s from rollups. Timings are wall-clock; the best and the median
of --repeat runs are reported with the load average, since a shared box is noisy.

    PYTHONPATH=. .venv/bin/python bench/bench_analyze.py --rows 10000000 50000000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.analyze_data import write_raw  # noqa: E402
from ingest.storage import resolve  # noqa: E402
from transforms import models, offload, rollups  # noqa: E402
from transforms.config import load_settings  # noqa: E402
from transforms.rollup_schema import ROLLUP_SCHEMA  # noqa: E402

RESULTS = REPO / "bench" / "results"
TARGETS = {"raw_s": 15.0, "rollups_s": 0.5}


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*.parquet")) if path.exists() else 0


def _timed(fn: Any, repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return min(runs), statistics.median(runs)


def _dataset(base: Path, rows: int, seed: int) -> Path:
    """A data directory holding `rows` raw rows, generated once and reused."""
    folder = base / f"analyze-{rows}-{seed}"
    marker = folder / "_generated.json"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        start = time.perf_counter()
        write_raw(
            resolve(str(folder)),
            rows,
            hours=4,
            files_per_hour=2 if rows <= 20_000_000 else 4,
            seed=seed,
        )
        marker.write_text(json.dumps({"rows": rows, "seconds": time.perf_counter() - start}))
    return folder


def bench(rows: int, base: Path, repeat: int, seed: int, live: bool) -> dict[str, Any]:
    folder = _dataset(base, rows, seed)
    data = resolve(str(folder))
    # Issue 4's figures: offload, flags and templates. Cache-policy suggestions read raw
    # requests of the window (docs/suggestions.md) and are timed by the suggestion tests'
    # data sizes, not here.
    settings = load_settings(suggestions={"enabled": False})
    shutil.rmtree(folder / "rollups", ignore_errors=True)
    load_before = os.getloadavg()[0]

    raw_best, raw_median = _timed(lambda: offload.analyze(data, settings, source="raw"), repeat)
    live_s = None
    if live:
        start = time.perf_counter()
        rollups.update_rollups(data, settings)
        live_s = time.perf_counter() - start
    start = time.perf_counter()
    rollups.rebuild_rollups(data, settings)
    batch_s = time.perf_counter() - start
    rollup_best, rollup_median = _timed(
        lambda: offload.analyze(data, settings, source="auto"), repeat
    )
    report = offload.analyze(data, settings)
    assert report["window"]["source"] == "rollups"

    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cdn_offload", "analyze", "--data", str(folder), "--format", "json"],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    cli_s = time.perf_counter() - start

    con = models.connect()
    models.register_minute_rollups(con, data, ROLLUP_SCHEMA)
    rollup_rows = con.sql("select count(*) from src_minute_rollups").fetchall()[0][0]
    con.close()
    raw_bytes, rollup_bytes = _size(folder / "raw"), _size(folder / "rollups")
    return {
        "rows": rows,
        "raw_bytes": raw_bytes,
        "rollup_rows": rollup_rows,
        "rollup_bytes": rollup_bytes,
        "rollup_row_ratio": rows / max(rollup_rows, 1),
        "rollup_byte_ratio": raw_bytes / max(rollup_bytes, 1),
        "analyze_raw_best_s": raw_best,
        "analyze_raw_median_s": raw_median,
        "analyze_rollups_best_s": rollup_best,
        "analyze_rollups_median_s": rollup_median,
        "cli_rollups_s": cli_s,
        "rollup_live_polars_s": live_s,
        "rollup_batch_duckdb_s": batch_s,
        "flagged": len(report["flagged"]),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| rows | analyze raw best / median (s) | analyze rollups best / median (s) | CLI from rollups (s) "
        "| live rollup Polars (s) | batch rollup DuckDB (s) | rollup rows | size ratio rows / bytes | load avg |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        live = "-" if r["rollup_live_polars_s"] is None else f"{r['rollup_live_polars_s']:.1f}"
        lines.append(
            f"| {r['rows']:,} | {r['analyze_raw_best_s']:.2f} / {r['analyze_raw_median_s']:.2f} "
            f"| {r['analyze_rollups_best_s']:.3f} / {r['analyze_rollups_median_s']:.3f} | {r['cli_rollups_s']:.2f} "
            f"| {live} | {r['rollup_batch_duckdb_s']:.1f} | {r['rollup_rows']:,} "
            f"| {r['rollup_row_ratio']:.0f}x / {r['rollup_byte_ratio']:.0f}x "
            f"| {r['load_average_before']:.1f} -> {r['load_average_after']:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000, 50_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--work-dir", type=Path, default=RESULTS / "tmp", help="where generated data is kept"
    )
    parser.add_argument("--no-live", action="store_true", help="skip timing the Polars live rollup")
    parser.add_argument("--out", type=Path, default=RESULTS / "analyze.json")
    args = parser.parse_args()

    results = [bench(n, args.work_dir, args.repeat, args.seed, not args.no_live) for n in args.rows]
    table = markdown(results)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"targets": TARGETS, "results": results, "table": table}, indent=2) + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
