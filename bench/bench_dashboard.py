"""Dashboard query latency: the calls each Streamlit page makes, cold, warm and cached.

    PYTHONPATH=. .venv/bin/python -m bench.bench_dashboard --rows 10000000

On the synthetic match of bench_analyze (bench/analyze_data.py: N canonical rows over
four hours, three CDNs, shared with bench_analyze through --work-dir) with its minute
rollups up to date (the normal live mode: `source=auto` reads them), each page's
sequence of calls into dashboards/data.py and dashboards/data_reports.py runs, in the
order and with the arguments the page in dashboards/app_pages/ uses on first load
with its default widgets (Explore drills into the worst flagged template). Calls
behind a toggle (multi-CDN comparison, full post-match report) are timed apart.

Each page runs in a fresh process with the dashboard's default threads:
- cold: the first load after start (empty caches, new DuckDB connection; the OS file
  cache is warm, and the modules' import time is reported apart);
- warm: `--repeat` loads with `st.cache_data` cleared before each, on the same
  connection: what every Live refresh costs while new data arrives, since the data
  version in every cache key changes with each file landed;
- cached: `--repeat` loads served from `st.cache_data` (an unchanged feed).
Writes bench/results/dashboard.json and prints a markdown table.
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

from bench.dashboard_pages import PAGES, RUNNERS, TITLES, Timer
from bench.support import REPO, RESULTS, machine, percentile
from cdn_offload.docgen import dashboard_markdown


def worker(page: str, uri: str, repeat: int) -> dict[str, Any]:
    """Child process: one cold load of `page`, then `repeat` warm and `repeat` cached loads."""
    began = time.perf_counter()
    import streamlit as st

    from dashboards import data, data_reports  # noqa: F401  (the import cost, measured here)

    import_s = time.perf_counter() - began
    run = RUNNERS[page]
    cold = Timer()
    run(cold, uri)
    warm, cached = [], []
    for _ in range(repeat):
        st.cache_data.clear()
        timer = Timer()
        run(timer, uri)
        warm.append(timer.seconds)
    for _ in range(repeat):
        timer = Timer()
        run(timer, uri)
        cached.append(timer.seconds)
    return {
        "import_s": import_s,
        "cold": cold.seconds,
        "warm": warm,
        "cached": cached,
        "on_demand": cold.on_demand,
    }


def dataset(base: Path, rows: int, seed: int) -> Path:
    """bench_analyze's data directory of `rows` raw rows (same folder and marker: shared)."""
    from bench.analyze_data import write_raw
    from ingest.storage import resolve

    folder = base / f"analyze-{rows}-{seed}"
    marker = folder / "_generated.json"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        start = time.perf_counter()
        files_per_hour = 2 if rows <= 20_000_000 else 4
        write_raw(resolve(str(folder)), rows, hours=4, files_per_hour=files_per_hour, seed=seed)
        marker.write_text(json.dumps({"rows": rows, "seconds": time.perf_counter() - start}))
    return folder


def ensure_rollups(folder: Path) -> float:
    """Bring the minute rollups up to date the live way (Polars); returns the seconds it took."""
    from ingest.storage import resolve
    from transforms import rollups
    from transforms.config import load_settings

    data, settings = resolve(str(folder)), load_settings()
    start = time.perf_counter()
    if not rollups.rollups_fresh(data, settings):
        rollups.update_rollups(data, settings)
    assert rollups.rollups_fresh(data, settings)
    return time.perf_counter() - start


def _child(page: str, folder: Path, repeat: int) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(REPO), STREAMLIT_LOGGER_LEVEL="error")
    env = {k: v for k, v in env.items() if not k.startswith("CDN_OFFLOAD_DASHBOARD_")}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_dashboard", "--worker", page, str(folder), str(repeat)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(f"page {page} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def summarise(page: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Per-query cold, warm median / p95 and cached median; page totals without toggles."""
    queries = {}
    for name, cold in raw["cold"].items():
        warm = [run[name] for run in raw["warm"]]
        cached = [run[name] for run in raw["cached"]]
        queries[name] = {
            "cold_s": round(cold, 4),
            "warm_median_s": round(statistics.median(warm), 4),
            "warm_p95_s": round(percentile(warm, 95), 4),
            "cached_median_s": round(statistics.median(cached), 5),
            "on_demand": name in raw["on_demand"],
        }

    def total(run: dict[str, float]) -> float:
        return sum(v for k, v in run.items() if k not in raw["on_demand"])

    warm_totals = [total(run) for run in raw["warm"]]
    return {
        "page": TITLES[page],
        "import_s": round(raw["import_s"], 3),
        "queries": queries,
        "total": {
            "cold_s": round(total(raw["cold"]), 4),
            "warm_median_s": round(statistics.median(warm_totals), 4),
            "warm_p95_s": round(percentile(warm_totals, 95), 4),
            "cached_median_s": round(statistics.median(total(r) for r in raw["cached"]), 5),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="warm and cached loads per page")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    parser.add_argument("--work-dir", type=Path, default=RESULTS / "tmp")
    parser.add_argument("--out", type=Path, default=RESULTS / "dashboard.json")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        page, uri, repeat = args.worker
        print(json.dumps(worker(page, uri, int(repeat))))
        return 0

    folder = dataset(args.work_dir, args.rows, args.seed)
    rollup_s = ensure_rollups(folder)
    load_before = os.getloadavg()[0]
    pages = {page: summarise(page, _child(page, folder, args.repeat)) for page in args.pages}
    result = {
        "machine": machine(),
        "command": f"python -m bench.bench_dashboard --rows {args.rows} --repeat {args.repeat}",
        "rows": args.rows,
        "repeat": args.repeat,
        "source": "rollups (fresh), raw files for suggestions and evidence",
        "rollup_update_s": round(rollup_s, 2),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "pages": pages,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(dashboard_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
