"""File parsing per format: end to end from gzip log files to canonical Parquet, one core.

    PYTHONPATH=. .venv/bin/python -m bench.bench_parse --rows 1000000

Each format goes through the real `ingest files` code path (decompress, frame, detect,
parse, truncate client IPs, write zstd Parquet) `--repeat` times (default 3), each run
a fresh process with POLARS_MAX_THREADS=1 and one Arrow CPU and I/O thread; the best
CPU time is kept (the first run after the files are generated is typically 5-10%
slower: fresh page cache and memory state). Beside the figures it measures, on the
same data and one core: gzip decompression alone (ISA-L, as ingest does; every format),
pyarrow's raw JSON reader alone (JSON formats; schema inferred, as a user would call
it), and GoAccess 1.7 on the CloudFront file when `goaccess` is installed
(`apt-get install goaccess`).
Writes bench/results/parse.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
GENERATED = {
    "cloudfront_standard": "cloudfront",
    "fastly_json": "fastly",
    "akamai_ds2": "akamai",
    "cloudflare_logpush": "cloudflare",
    "gcp_cdn": "gcp",
    "azure_front_door": "azure",
}
TARGETS = {"cloudfront_standard": 300_000}
JSON_TARGET = 150_000
JSON_FORMATS = ("fastly_json", "akamai_ds2", "cloudflare_logpush", "gcp_cdn", "azure_front_door")


def _one_core_env() -> dict[str, str]:
    env = dict(os.environ, POLARS_MAX_THREADS="1", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = str(REPO)
    return env


def worker(fmt: str, src: str) -> None:
    """Child process: ingest `src` with format `fmt` on one core; print JSON timings."""
    from ingest import allocator

    allocator.tune()  # before pyarrow loads, as the CLI does
    import pyarrow as pa

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    from ingest.config import IngestSettings
    from ingest.file_source import ingest_files

    with tempfile.TemporaryDirectory() as out:
        settings = IngestSettings(out=out, format=fmt)
        wall, cpu = time.perf_counter(), time.process_time()
        summary = ingest_files([src], settings)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        json.dumps(
            {
                "lines": summary.lines_read,
                "rejects": summary.rows_quarantined,
                "wall_s": wall,
                "cpu_s": cpu,
            }
        )
    )


def _generate(cdn: str, rows: int, out: Path) -> Path:
    from cdn_offload.generator import GeneratorConfig, generate

    target = out / cdn
    generate(GeneratorConfig(rows=rows, cdns=(cdn,)), str(target), replace=True)
    return target / cdn


def _nginx_input(rows: int, out: Path) -> Path:
    sample = (
        (REPO / "sample_logs" / "nginx" / "cdn_offload.log").read_bytes().splitlines(keepends=True)
    )
    reps = rows // len(sample) + 1
    target = out / "nginx"
    target.mkdir(parents=True, exist_ok=True)
    with gzip.open(target / "access.log.gz", "wb", compresslevel=1) as fh:
        fh.write(b"".join(sample * reps))
    return target


def _run_worker(fmt: str, src: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_parse", "--worker", fmt, str(src)],
        env=_one_core_env(),
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _floors(src: Path, json_reader: bool) -> dict[str, float]:
    """Lines/s per core of gzip decompression alone and, for JSON, of pyarrow.json alone.

    Together they bound what any pipeline reading these files with these libraries can
    reach: decompressing and parsing cost CPU before a single field is mapped.
    """
    import pyarrow as pa
    import pyarrow.json as pj
    from isal import igzip

    pa.set_cpu_count(1)
    files = [p.read_bytes() for p in sorted(src.rglob("*.gz"))]
    began = time.process_time()
    data = b"".join(igzip.decompress(f) for f in files)  # ISA-L, as ingest decompresses
    gunzip_s = time.process_time() - began
    lines = data.count(b"\n")
    rates = {"gunzip_lines_per_s": lines / gunzip_s}
    if json_reader:
        began = time.process_time()
        pj.read_json(pa.BufferReader(data), read_options=pj.ReadOptions(use_threads=False))
        rates["pyarrow_json_reader_lines_per_s"] = lines / (time.process_time() - began)
    return rates


def _goaccess(src: Path) -> float | None:
    """Lines/s of GoAccess's CLOUDFRONT log format on the same files, or None if absent."""
    if not shutil.which("goaccess"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "cf.log"
        plain.write_bytes(
            b"".join(gzip.decompress(p.read_bytes()) for p in sorted(src.rglob("*.gz")))
        )
        lines = sum(1 for line in plain.open("rb") if not line.startswith(b"#"))
        began = time.perf_counter()
        subprocess.run(
            [
                "goaccess",
                str(plain),
                "--log-format=CLOUDFRONT",
                "-o",
                str(Path(tmp) / "r.json"),
                "--no-progress",
            ],
            check=True,
            capture_output=True,
        )
        return lines / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="lines per format")
    parser.add_argument("--formats", default=",".join([*GENERATED, "nginx"]))
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per format, each a fresh process; best kept"
    )
    parser.add_argument("--worker", nargs=2, metavar=("FORMAT", "SRC"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    results: dict[str, dict[str, float | None]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            src = (
                _nginx_input(args.rows, Path(tmp))
                if fmt == "nginx"
                else _generate(GENERATED[fmt], args.rows, Path(tmp))
            )
            runs = [_run_worker(fmt, src) for _ in range(args.repeat)]
            run = min(runs, key=lambda r: r["cpu_s"])
            row: dict[str, float | None] = {
                "lines": run["lines"],
                "rejects": run["rejects"],
                "cpu_s": round(run["cpu_s"], 2),
                "cpu_s_runs": [round(r["cpu_s"], 2) for r in runs],
                "lines_per_s_per_core": round(run["lines"] / run["cpu_s"]),
                "target": TARGETS.get(fmt, JSON_TARGET if fmt != "nginx" else None),
            }
            floors = _floors(src, json_reader=fmt in JSON_FORMATS)
            row.update({name: round(rate) for name, rate in floors.items()})
            if fmt == "cloudfront_standard":
                rate = _goaccess(src)
                row["goaccess_lines_per_s"] = round(rate) if rate else None
            results[fmt] = row
            print(fmt, json.dumps(row), file=sys.stderr)
    from bench.support import machine

    RESULTS.mkdir(parents=True, exist_ok=True)
    command = (
        f"python -m bench.bench_parse --rows {args.rows} --formats {args.formats} "
        f"--repeat {args.repeat}"
    )
    document = {"machine": machine(), "command": command, "formats": results}
    (RESULTS / "parse.json").write_text(json.dumps(document, indent=2) + "\n")
    print("| format | lines | lines/s per core | target | references on the same data |")
    print("|---|---:|---:|---:|---|")
    for fmt, row in results.items():
        refs = [f"gunzip alone: {row['gunzip_lines_per_s']:,}/s"]
        if row.get("pyarrow_json_reader_lines_per_s"):
            refs.append(f"pyarrow JSON reader alone: {row['pyarrow_json_reader_lines_per_s']:,}/s")
        if row.get("goaccess_lines_per_s"):
            refs.append(f"GoAccess 1.7: {row['goaccess_lines_per_s']:,}/s")
        ref = "; ".join(refs)
        target = f"{row['target']:,}" if row["target"] else "-"
        print(
            f"| {fmt} | {int(row['lines'] or 0):,} | {int(row['lines_per_s_per_core'] or 0):,} | {target} | {ref} |"
        )


if __name__ == "__main__":
    main()
