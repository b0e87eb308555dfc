"""Child process of the backlog and scaling benchmarks: one consumer draining a loaded topic.

    python -m bench.drain BOOTSTRAP TOPIC GROUP ENDS_JSON [--settings JSON] [--wait-go]

Runs the real `KafkaSource` (the code `cdn-offload ingest kafka` runs: fetch, frame,
parse, truncate client IPs, write zstd Parquet durably, commit) on one core until every
partition it is assigned is written and committed up to its end offset (`ENDS_JSON`:
partition -> end offset; the topic is loaded before the consumers start). It prints
one JSON line with its timings, CPU, memory and buffer high-water marks.

With `--wait-go` it prints `{"ready": true}` once warmed up and connects only when a
line arrives on stdin, so several members join the group together; after its
partitions are done it stays in the group (a leaving member would make the others
rebalance mid-run) until a second line arrives.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from typing import Any

from bench.support import REPO, proc_status_mib

SAMPLE_S = 0.05
IDLE_TIMEOUT_S = 300.0  # a safety stop only: the drain normally ends at its end offsets


def _warm_up() -> None:
    """Run the parser and Parquet writer once on a sample, so the clock sees steady state."""
    from ingest.config import IngestSettings
    from ingest.kafka_batch import PartitionBuffer, assemble
    from ingest.kafka_parse import parse_batch
    from ingest.parquet_sink import ParquetSink
    from ingest.storage import resolve

    sample = (REPO / "sample_logs" / "cloudfront" / "live_match.log").read_bytes().splitlines()
    lines = [x for x in sample if not x.startswith(b"#")]
    buf = PartitionBuffer("warm-up", 0)
    buf.add(lines, list(range(len(lines))))
    batch = buf.peek()
    assert batch is not None
    framed, _ = assemble(batch, 1 << 20)
    with tempfile.TemporaryDirectory() as out:
        _, result = parse_batch(framed, "cloudfront_standard", "warm-up", IngestSettings(out=out))
        ParquetSink(resolve(out)).write_rows(result.rows, batch.stem)


class _Sampler(threading.Thread):
    """Resident memory every SAMPLE_S seconds, with the drain's progress at that moment."""

    def __init__(self, progress: Any) -> None:
        super().__init__(daemon=True)
        self.progress = progress
        self.samples: list[tuple[float, float]] = []  # (share of the drain done, RSS MiB)
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(SAMPLE_S):
            self.samples.append((self.progress(), proc_status_mib("VmRSS")))

    def peak(self, lo: float, hi: float) -> float | None:
        inside = [rss for done, rss in self.samples if lo <= done < hi]
        return round(max(inside)) if inside else None


def drain(
    bootstrap: str,
    topic: str,
    group: str,
    ends: dict[int, int],
    overrides: dict[str, Any],
    out: str,
) -> tuple[Any, dict[str, Any]]:
    """A `KafkaSource` that stops itself (or reports, with --wait-go) once `ends` are durable."""
    from ingest.config import IngestSettings
    from ingest.health import Metrics
    from ingest.kafka_config import load_kafka_settings
    from ingest.kafka_source import KafkaSource

    kafka = load_kafka_settings(
        bootstrap_servers=bootstrap,
        topics={topic: "cloudfront_standard"},
        group_id=group,
        **overrides,
    )
    stats: dict[str, Any] = {"max_buffered_bytes": 0, "pauses": 0, "max_paused_partitions": 0}

    class Watched(Metrics):
        def set_state(self, **state: object) -> None:
            paused = state.get("paused_partitions")
            if isinstance(paused, int) and paused > self.paused_partitions:
                stats["pauses"] += 1
                stats["max_paused_partitions"] = max(stats["max_paused_partitions"], paused)
            super().set_state(**state)

    class Drain(KafkaSource):
        began: tuple[float, float] | None = None
        done: tuple[float, float] | None = None
        drained: tuple[int, ...] = ()
        on_done: Any = None

        def _buffer(self, records: Any, now: float) -> None:
            if records and self.began is None:
                self.began = time.time(), time.process_time()
            super()._buffer(records, now)
            buffered = sum(b.nbytes for b in self._buffers.values())
            stats["max_buffered_bytes"] = max(stats["max_buffered_bytes"], buffered)
            for tp in records:
                last = self._buffers[tp].last_offset
                # The tail of a partition is written now rather than after flush_interval_s.
                if last is not None and last + 1 >= ends[tp.partition]:
                    self._flush(now, only={tp}, force=True)

        def committed(self, offsets: dict[Any, int]) -> None:
            super().committed(offsets)
            mine = self._durable
            if self.done is None and mine and all(mine[tp] >= ends[tp.partition] for tp in mine):
                self.done = time.time(), time.process_time()
                self.drained = tuple(sorted(tp.partition for tp in mine))
                self.on_done()

        def progress(self) -> float:
            """Share of this member's partitions written and committed (0 before assignment)."""
            durable = dict(self._durable)  # read from the sampler thread
            total = sum(ends[tp.partition] for tp in durable)
            return sum(min(v, ends[tp.partition]) for tp, v in durable.items()) / max(total, 1)

    metrics = Watched(max_lag_records=kafka.ready_max_lag_records)
    return Drain(IngestSettings(out=out), kafka, metrics=metrics), stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bootstrap")
    parser.add_argument("topic")
    parser.add_argument("group")
    parser.add_argument("ends", help="JSON object: partition -> end offset")
    parser.add_argument("--settings", default="{}", help="JSON object of KafkaSettings values")
    parser.add_argument("--wait-go", action="store_true")
    args = parser.parse_args()

    from ingest import allocator

    allocator.tune()  # before pyarrow loads, as `cdn-offload ingest kafka` does
    import pyarrow as pa

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    _warm_up()
    ends = {int(k): int(v) for k, v in json.loads(args.ends).items()}
    with tempfile.TemporaryDirectory(prefix="bench-drain-") as out:
        result = _run(args, ends, out)
    print(json.dumps(result), flush=True)


def _run(args: argparse.Namespace, ends: dict[int, int], out: str) -> dict[str, Any]:
    overrides = json.loads(args.settings)
    source, stats = drain(args.bootstrap, args.topic, args.group, ends, overrides, out)
    if args.wait_go:
        source.on_done = lambda: print(json.dumps({"done": True}), flush=True)
    else:
        source.on_done = source.stop
    baseline = proc_status_mib("VmRSS")
    sampler = _Sampler(source.progress)
    if args.wait_go:
        print(json.dumps({"ready": True}), flush=True)
        sys.stdin.readline()
        threading.Thread(target=lambda: (sys.stdin.readline(), source.stop()), daemon=True).start()
    sampler.start()
    summary = source.run(idle_timeout_s=IDLE_TIMEOUT_S)
    sampler.halt.set()
    if source.began is None or source.done is None:
        raise SystemExit("the consumer stopped before its partitions were drained")
    return {
        "partitions": list(source.drained),
        "lines": summary.lines_read,
        "rows": summary.rows_written,
        "rejects": summary.rows_quarantined,
        "batches": source.batches_written,
        "began": source.began[0],
        "done": source.done[0],
        "wall_s": source.done[0] - source.began[0],
        "cpu_s": source.done[1] - source.began[1],
        "baseline_rss_mib": round(baseline),
        "peak_rss_mib": round(proc_status_mib("VmHWM")),
        "peak_rss_first_half_mib": sampler.peak(0.0, 0.5),
        "peak_rss_second_half_mib": sampler.peak(0.5, 1.01),
        "peak_rss_by_tenth_mib": [
            sampler.peak(i / 10, (i + 1) / 10 + 0.01 * (i == 9)) for i in range(10)
        ],
        **stats,
    }


if __name__ == "__main__":
    main()
