"""Helpers shared by the dashboard, backlog and scaling benchmarks.

The machine description every results file carries (the README prints it under each
table), process memory readings, and a loader that publishes generated CloudFront
lines to a multi-partition topic, as the CDN log shippers would.
"""

from __future__ import annotations

import gzip
import math
import os
import platform
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def machine() -> dict[str, Any]:
    """CPU model, cores, RAM and library versions of this machine (for the results tables)."""
    import duckdb
    import polars
    import pyarrow

    cpu = platform.processor() or platform.machine()
    ram_kib = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(ram_kib / 2**20, 1),
        "python": platform.python_version(),
        "pyarrow": pyarrow.__version__,
        "polars": polars.__version__,
        "duckdb": duckdb.__version__,
    }


def one_core_env() -> dict[str, str]:
    """Environment of a child process limited to one Polars thread (one core per consumer)."""
    env = dict(os.environ, POLARS_MAX_THREADS="1", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = str(REPO)
    return env


def proc_status_mib(field: str, pid: int | str = "self") -> float:
    """`VmRSS` (resident now) or `VmHWM` (peak resident) of a process, in MiB.

    /proc is per process, unlike `ru_maxrss` of RUSAGE_CHILDREN, which is the maximum
    over all children rather than the memory of the one measured.
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (`q` in 0..100): with few samples, p95 is the slowest run."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _cloudfront_messages(lines: int, per_message: int) -> Iterator[bytes]:
    """Messages of `per_message` CloudFront standard lines of the synthetic match.

    Generates `lines` rows once into a temporary directory and streams them file by
    file, so memory holds one decompressed hourly file, not the whole backlog.
    """
    from cdn_offload.generator import GeneratorConfig, generate

    with tempfile.TemporaryDirectory(prefix="bench-lines-") as tmp:
        generate(GeneratorConfig(rows=lines, cdns=("cloudfront",)), tmp, replace=True)
        files = sorted(Path(tmp).rglob("*.gz"))
        left, pending = lines, []
        while left > 0:  # the generator may write a few lines short: go round again
            for path in files:
                body = [x for x in gzip.decompress(path.read_bytes()).splitlines() if x[:1] != b"#"]
                for line in body[:left]:
                    pending.append(line)
                    if len(pending) == per_message:
                        yield b"\n".join(pending)
                        pending = []
                left -= min(left, len(body))
                if left <= 0:
                    break
        if pending:
            yield b"\n".join(pending)


def load_topic(
    bootstrap: str, topic: str, lines: int, partitions: int, per_message: int = 100
) -> tuple[dict[int, int], int]:
    """Publish `lines` CloudFront lines to `topic`, messages spread evenly over partitions.

    Returns:
        the number of messages in each partition (its end offset: the topic is new) and
        the bytes published.
    """
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, batch_size=1 << 20, max_request_size=16 << 20
    )
    counts, nbytes = dict.fromkeys(range(partitions), 0), 0
    for i, value in enumerate(_cloudfront_messages(lines, per_message)):
        producer.send(topic, value, partition=i % partitions)
        counts[i % partitions] += 1
        nbytes += len(value)
    producer.flush()
    producer.close()
    return counts, nbytes
