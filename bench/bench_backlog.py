"""Peak memory of a consumer under backlog: set by its buffer settings, not by the backlog.

    PYTHONPATH=. .venv/bin/python -m bench.bench_backlog --backlogs 1000000 4000000

For each backlog size, loads a fresh 4-partition topic on a local Tansu broker with that
many CloudFront lines (100 per message) before any consumer starts, so the consumer
meets the whole backlog at once, as after an outage. Each topic is then drained by the
real consumer (`bench/drain.py`: fetch, frame, parse, truncate client IPs, write
Parquet durably, commit; one core, its own process) under two buffer profiles: the
defaults and a small one. The consumer process samples its resident memory every
50 ms and reports its peak (VmHWM), the peak in the first and second half of the drain,
the most bytes it held buffered and how often it paused fetching because its buffers
were full. Memory is bounded when the peak does not grow with the backlog; the
profile sets the bound. Writes bench/results/backlog.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.support import REPO, RESULTS, load_topic, machine, one_core_env
from cdn_offload.docgen import backlog_markdown

PARTITIONS = 4
FAST_GROUP: dict[str, Any] = {
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 1000,
    "fetch_max_wait_ms": 100,
}
MIB = 1 << 20
PROFILES: dict[str, dict[str, int]] = {
    "default": {},
    "small": {
        "fetch_max_bytes": 8 * MIB,
        "max_partition_fetch_bytes": 2 * MIB,
        "flush_max_bytes": 4 * MIB,
        # Below partitions x flush_max_bytes, so the pause on full buffers is exercised too.
        "buffer_max_bytes": 8 * MIB,
    },
}
LIMITS = ("fetch_max_bytes", "max_partition_fetch_bytes", "flush_max_bytes", "buffer_max_bytes")


def limits(profile: dict[str, int]) -> dict[str, int]:
    """The buffer and fetch limits a profile resolves to (defaults from KafkaSettings)."""
    from ingest.kafka_config import KafkaSettings

    settings = KafkaSettings(**profile)  # type: ignore[arg-type]
    return {name: int(getattr(settings, name)) for name in LIMITS}


def run_drain(
    bootstrap: str, topic: str, group: str, ends: dict[int, int], settings: dict[str, Any]
) -> dict[str, Any]:
    """One `bench.drain` child that drains `topic` alone; returns its JSON report."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.drain",
            bootstrap,
            topic,
            group,
            json.dumps(ends),
            "--settings",
            json.dumps({**FAST_GROUP, **settings}),
        ],
        env=one_core_env(),
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    if proc.returncode:
        raise SystemExit(f"bench.drain failed:\n{proc.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backlogs", type=int, nargs="+", default=[1_000_000, 4_000_000])
    parser.add_argument("--profiles", nargs="+", choices=sorted(PROFILES), default=list(PROFILES))
    parser.add_argument("--out", type=Path, default=RESULTS / "backlog.json")
    args = parser.parse_args()

    from cdn_offload.local_broker import LocalBroker

    rows = []
    with LocalBroker() as broker:
        for backlog in sorted(args.backlogs):
            topic = f"backlog-{backlog}"
            broker.create_topics({topic: PARTITIONS})
            began = time.perf_counter()
            ends, nbytes = load_topic(broker.bootstrap_servers, topic, backlog, PARTITIONS)
            print(
                f"loaded {backlog:,} lines in {time.perf_counter() - began:.0f} s", file=sys.stderr
            )
            for name in args.profiles:
                profile = PROFILES[name]
                report = run_drain(
                    broker.bootstrap_servers, topic, f"backlog-{name}-{backlog}", ends, profile
                )
                row = {
                    "profile": name,
                    "limits": limits(profile),
                    "backlog_lines": backlog,
                    "backlog_bytes": nbytes,
                    "partitions": PARTITIONS,
                    "lines_per_s": round(report["lines"] / report["wall_s"]),
                    **report,
                }
                print(json.dumps(row), file=sys.stderr)
                rows.append(row)
    result: dict[str, Any] = {
        "machine": machine(),
        "command": "python -m bench.bench_backlog --backlogs "
        + " ".join(str(b) for b in sorted(args.backlogs)),
        "partitions": PARTITIONS,
        "lines_per_message": 100,
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(backlog_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
