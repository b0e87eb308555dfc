"""Scaling out: N consumer processes in one group equal one consumer, row for row and rollup for rollup."""

from __future__ import annotations

import signal
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest

from cdn_offload.generator import GeneratorConfig, generate
from ingest.replay import load_lines, replay
from ingest.storage import resolve
from tests.integration.kafka.support import (
    REPO,
    fast_group_env,
    range_records,
    read_table,
    wait_for,
)
from transforms.config import load_settings as load_transform_settings
from transforms.rollups import rebuild_rollups

pytestmark = pytest.mark.integration

PARTITIONS = 6
CONSUMERS = 3


def _consumers(
    n: int, servers: str, topic: str, group: str, out: Path
) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cdn_offload",
                "ingest",
                "kafka",
                "--bootstrap-servers",
                servers,
                "--topic",
                topic,
                "--group",
                group,
                "--out",
                str(out),
            ],
            cwd=REPO,
            env=fast_group_env(),
            stderr=subprocess.PIPE,
        )
        for _ in range(n)
    ]


def _land(n: int, servers: str, topic: str, group: str, out: Path, expected: int) -> None:
    procs = _consumers(n, servers, topic, group, out)
    try:
        wait_for(lambda: read_table(str(out)).num_rows == expected, 240, 1.0)
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
        errors = [proc.communicate()[1].decode(errors="replace")[-2000:] for proc in procs]
    assert codes == [0] * n, errors


def _rollups(out: Path) -> pl.DataFrame:
    settings = load_transform_settings()
    rebuild_rollups(resolve(str(out)), settings)
    table = resolve(str(out)).join("rollups", "offload_minute").dataset().to_table()
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.sort(frame.columns)


def test_consumer_group_output_equals_a_single_consumer(
    tmp_path, kafka_broker, topic_factory, producer
):
    match = tmp_path / "match"
    generate(GeneratorConfig(rows=40_000, cdns=("cloudflare",), duration_min=60), str(match))
    topic = topic_factory(partitions=PARTITIONS)
    sent = replay(load_lines([str(match / "cloudflare")]), producer, topic)
    producer.flush()

    many, one = tmp_path / "many", tmp_path / "one"
    _land(CONSUMERS, kafka_broker.bootstrap_servers, topic, "group-many", many, sent.lines)
    _land(1, kafka_broker.bootstrap_servers, topic, "group-one", one, sent.lines)

    # Disjoint files: every file belongs to one partition range, and no row is in two.
    rows = pl.from_arrow(read_table(str(many)))
    assert isinstance(rows, pl.DataFrame)
    keys = ["_source_partition", "_source_offset", "_source_line"]
    assert rows.height == sent.lines == 40_000
    assert rows.select(keys).n_unique() == rows.height
    assert set(rows["_source_partition"]) == set(range(PARTITIONS))
    ranges: dict[int, set[tuple[int, int]]] = {}
    for path in (many / "raw").rglob("*.parquet"):
        _, part, first, last = path.name.removesuffix(".parquet").rsplit("-", 3)
        ranges.setdefault(int(part), set()).add((int(first), int(last)))
    for spans in ranges.values():
        ordered = sorted(spans)
        assert all(a[1] < b[0] for a, b in pairwise(ordered)), ordered
    assert range_records(str(many)) == [] and range_records(str(one)) == []

    # The same rows, hence the same rollups, as one consumer alone.
    single = pl.from_arrow(read_table(str(one)))
    assert isinstance(single, pl.DataFrame)
    cols = [c for c in rows.columns if not c.startswith("_source")]
    assert rows.select(cols).sort(cols).equals(single.select(cols).sort(cols))
    assert _rollups(many).equals(_rollups(one))
