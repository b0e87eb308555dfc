"""Run every benchmark in turn, one command per figure (`make bench`).

    PYTHONPATH=. .venv/bin/python -m bench.run_all [--quick]

Each benchmark writes its own bench/results/<name>.json and prints a markdown table;
this runner only sequences them (benchmarks on a 2-core machine must not overlap).
`--quick` uses small sizes to check that every benchmark still runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

FULL = {
    "parse": ["bench.bench_parse", "--rows", "1000000"],
    "kafka": ["bench.bench_kafka"],
    "analyze": ["bench.bench_analyze"],
    "generate": ["bench.bench_generate", "--rows", "20000000"],
}
QUICK = {
    "parse": ["bench.bench_parse", "--rows", "50000"],
    "kafka": ["bench.bench_kafka", "--lines", "20000"],
    "analyze": ["bench.bench_analyze", "--rows", "200000", "--repeat", "1"],
    "generate": ["bench.bench_generate", "--rows", "200000"],
}


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
        print(f"\n## {name}: python -m {' '.join(cmd)}\n", flush=True)
        if subprocess.run([sys.executable, "-m", *cmd], cwd=REPO, check=False).returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
