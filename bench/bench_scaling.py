"""Scaling out: draining one topic with one consumer process, then with two in one group.

    PYTHONPATH=. .venv/bin/python -m bench.bench_scaling --lines 2000000

Loads a 4-partition topic on a local Tansu broker with N CloudFront lines (100 per
message, spread evenly), then drains it with k = 1, 2 consumer processes in a fresh
group each time. Every member is the real consumer (`bench/drain.py`: the code
`cdn-offload ingest kafka` runs) on one core in its own process; the members warm up,
join the group together and stay in it until all are done, so no rebalance falls in
the measurement. The clock runs from the first record any member receives to the
moment the last member has written and committed its partitions up to their end.

Reported per k: wall-clock lines/s, CPU microseconds per line of the consumers and of
the broker, how busy the machine's cores were, and the speed-up over one consumer.
The broker shares the machine's cores with the consumers, so on a small machine the
speed-up is capped by cores, not by the consumer group. Writes
bench/results/scaling.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from bench.support import (
    REPO,
    RESULTS,
    cpu_seconds,
    load_topic,
    machine,
    one_core_env,
)
from cdn_offload.docgen import scaling_markdown

PARTITIONS = 4
FAST_GROUP: dict[str, Any] = {
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 1000,
    "fetch_max_wait_ms": 100,
}


def _busy_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _expect(stream: IO[str], key: str, proc: subprocess.Popen[str]) -> None:
    line = stream.readline()
    if not line or key not in json.loads(line):
        raise SystemExit(f"a consumer exited early (status {proc.poll()}); see its stderr")


def drain_group(
    bootstrap: str, topic: str, group: str, ends: dict[int, int], members: int, broker_pid: int
) -> dict[str, Any]:
    """Drain `topic` with `members` consumer processes in `group`; the run's figures."""
    cmd = [sys.executable, "-m", "bench.drain", bootstrap, topic, group, json.dumps(ends)]
    cmd += ["--settings", json.dumps(FAST_GROUP), "--wait-go"]
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp, ExitStack() as stack:
        logs = [
            stack.enter_context(open(Path(tmp) / f"member-{i}.log", "w+", encoding="utf-8"))
            for i in range(members)
        ]
        procs = [
            subprocess.Popen(
                cmd,
                cwd=REPO,
                env=one_core_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
            for log in logs
        ]
        try:
            reports = _run_members(procs, broker_pid)
        except SystemExit:
            for log in logs:
                log.seek(0)
                print(log.read()[-3000:], file=sys.stderr)
            raise
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
    return reports


class _Probe(threading.Thread):
    """Machine and broker CPU counters every 0.1 s, to cut out the drain's own interval."""

    def __init__(self, broker_pid: int) -> None:
        super().__init__(daemon=True)
        self.broker_pid = broker_pid
        self.samples: list[tuple[float, int, int, float]] = []
        self.halt = threading.Event()

    def sample(self) -> None:
        busy, total = _busy_jiffies()
        self.samples.append((time.time(), busy, total, cpu_seconds(self.broker_pid)))

    def run(self) -> None:
        self.sample()
        while not self.halt.wait(0.1):
            self.sample()

    def between(self, start: float, end: float) -> tuple[float, float]:
        """(share of the machine's CPU busy, broker CPU seconds) over [start, end]."""
        before = [s for s in self.samples if s[0] <= start] or self.samples[:1]
        after = [s for s in self.samples if s[0] >= end] or self.samples[-1:]
        a, b = before[-1], after[0]
        return (b[1] - a[1]) / max(b[2] - a[2], 1), b[3] - a[3]


def _run_members(procs: list[subprocess.Popen[str]], broker_pid: int) -> dict[str, Any]:
    for proc in procs:
        assert proc.stdout is not None
        _expect(proc.stdout, "ready", proc)
    probe = _Probe(broker_pid)
    probe.start()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        assert proc.stdout is not None
        _expect(proc.stdout, "done", proc)
    time.sleep(0.2)  # one more probe sample after the last member finished
    probe.halt.set()
    probe.join()
    members = []
    for proc in procs:
        out, _ = proc.communicate("stop\n", timeout=120)
        if proc.returncode:
            raise SystemExit(f"a consumer failed with status {proc.returncode}")
        members.append(json.loads(out.strip().splitlines()[-1]))
    lines = sum(m["lines"] for m in members)
    began, done = min(m["began"] for m in members), max(m["done"] for m in members)
    busy, broker_cpu = probe.between(began, done)
    cpu = sum(m["cpu_s"] for m in members)
    return {
        "consumers": len(procs),
        "lines": lines,
        "rows": sum(m["rows"] for m in members),
        "wall_s": round(done - began, 3),
        "lines_per_s": round(lines / (done - began)),
        "consumer_cpu_us_per_line": round(cpu / lines * 1e6, 2),
        "broker_cpu_us_per_line": round(broker_cpu / lines * 1e6, 2),
        "machine_busy_share": round(busy, 3),
        "members": [
            {k: m[k] for k in ("partitions", "lines", "wall_s", "cpu_s", "peak_rss_mib")}
            for m in members
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--consumers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=2, help="runs per k; the fastest is kept")
    parser.add_argument("--out", type=Path, default=RESULTS / "scaling.json")
    args = parser.parse_args()

    from cdn_offload.local_broker import LocalBroker

    runs: list[dict[str, Any]] = []
    with LocalBroker() as broker:
        proc = getattr(broker, "_proc", None)  # the broker's CPU is part of the story
        assert proc is not None
        broker.create_topics({"scaling": PARTITIONS})
        began = time.perf_counter()
        ends, nbytes = load_topic(broker.bootstrap_servers, "scaling", args.lines, PARTITIONS)
        print(
            f"loaded {args.lines:,} lines in {time.perf_counter() - began:.0f} s", file=sys.stderr
        )
        for attempt in range(args.repeat):
            for k in args.consumers:
                group = f"scaling-{k}-{attempt}"
                run = drain_group(broker.bootstrap_servers, "scaling", group, ends, k, proc.pid)
                print(json.dumps(run), file=sys.stderr)
                runs.append(run)
    best = {
        k: max((r for r in runs if r["consumers"] == k), key=lambda r: r["lines_per_s"])
        for k in args.consumers
    }
    base = best[min(args.consumers)]["lines_per_s"]
    rows = [{**r, "speedup": round(r["lines_per_s"] / base, 2)} for r in best.values()]
    result: dict[str, Any] = {
        "machine": machine(),
        "command": f"python -m bench.bench_scaling --lines {args.lines} --repeat {args.repeat}",
        "partitions": PARTITIONS,
        "lines_per_message": 100,
        "bytes": nbytes,
        "repeat": args.repeat,
        "load_average": os.getloadavg()[0],
        "results": rows,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(scaling_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
