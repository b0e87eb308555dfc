"""Run every benchmark in turn, one command per figure (`make bench`).

    PYTHONPATH=. .venv/bin/python -m bench.run_all [--quick]

Each benchmark writes its own bench/results/<name>.json and prints a markdown table;
this runner sequences them (benchmarks on a 2-core machine must not overlap), then
regenerates the README's benchmark tables (`python -m cdn_offload.docgen`).
`--quick` uses small sizes to check that every benchmark still runs; the benchmarks
that take `--out` then write under bench/results/tmp/, so the README figures stay.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

QUICK_OUT = "bench/results/tmp/quick"
FULL = {
    "parse": ["bench.bench_parse", "--rows", "1000000"],
    "kafka": ["bench.bench_kafka"],
    "backlog": ["bench.bench_backlog", "--backlogs", "1000000", "4000000"],
    "scaling": ["bench.bench_scaling", "--lines", "2000000"],
    "analyze": ["bench.bench_analyze"],
    # After analyze: it reuses analyze's 10M-row data set and leaves its rollups fresh.
    "dashboard": ["bench.bench_dashboard", "--rows", "10000000"],
    "generate": ["bench.bench_generate", "--rows", "20000000"],
}
QUICK = {
    "parse": ["bench.bench_parse", "--rows", "50000"],
    "kafka": ["bench.bench_kafka", "--lines", "20000"],
    "backlog": ["bench.bench_backlog", "--backlogs", "20000", "80000"],
    "scaling": ["bench.bench_scaling", "--lines", "100000", "--repeat", "1"],
    "analyze": ["bench.bench_analyze", "--rows", "200000", "--repeat", "1"],
    "dashboard": ["bench.bench_dashboard", "--rows", "200000", "--repeat", "2"],
    "generate": ["bench.bench_generate", "--rows", "200000"],
}
TAKES_OUT = ("backlog", "scaling", "analyze", "dashboard")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check they run")
    parser.add_argument("--only", nargs="+", choices=sorted(FULL), help="run only these")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    failed = []
    for name, cmd in plan.items():
        if args.only and name not in args.only:
            continue
        if args.quick and name in TAKES_OUT:
            cmd = [*cmd, "--out", f"{QUICK_OUT}-{name}.json"]
        print(f"\n## {name}: python -m {' '.join(cmd)}\n", flush=True)
        if subprocess.run([sys.executable, "-m", *cmd], cwd=REPO, check=False).returncode:
            failed.append(name)
    if not args.quick:
        subprocess.run([sys.executable, "-m", "cdn_offload.docgen"], cwd=REPO, check=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
