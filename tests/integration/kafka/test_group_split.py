"""Two consumers in one group split the partitions and together write every row once."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import polars as pl
import pytest

from cdn_offload.local_broker import free_port
from ingest.replay import load_lines, replay
from tests.integration.kafka.support import (
    REPO,
    SAMPLES,
    fast_group_env,
    range_records,
    read_table,
    samples,
    scrape,
    wait_for,
)

pytestmark = pytest.mark.integration

SAMPLE = str(SAMPLES / "cloudfront" / "live_match.log")
COPIES = 4
PREFIX = "cdn_offload_kafka_"


def _metric_total(port: int, name: str) -> float:
    return sum(samples(scrape(port)[1], PREFIX + name).values())


def _partitions(port: int) -> set[int]:
    lag = samples(scrape(port)[1], PREFIX + "lag_records")
    return {int(re.search(r'partition="(\d+)"', k).group(1)) for k in lag}


def test_two_consumers_split_partitions_and_write_each_row_once(
    tmp_path, topic_factory, group, kafka_broker, producer
):
    topic = topic_factory(partitions=4)
    out = str(tmp_path / "data")
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cdn_offload",
                "ingest",
                "kafka",
                "--bootstrap-servers",
                kafka_broker.bootstrap_servers,
                "--topic",
                f"{topic}=cloudfront_standard",
                "--group",
                group,
                "--out",
                out,
                "--metrics-port",
                str(port),
            ],
            cwd=REPO,
            env=fast_group_env(),
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        wait_for(lambda: all(_metric_total(p, "assigned_partitions") == 2 for p in ports), 60, 0.2)
        assert all(scrape(p, "/readyz")[0] == 200 for p in ports)
        sent = replay(load_lines([SAMPLE] * COPIES), producer, topic)
        wait_for(
            lambda: (
                sum(_metric_total(p, "rows_written_total") for p in ports)
                == sent.lines - 2 * COPIES
            ),
            30,
            0.2,
        )
        wait_for(lambda: sum(len(_partitions(p)) for p in ports) == 4, 10, 0.2)
        owned = [_partitions(p) for p in ports]
        for proc in procs:
            proc.send_signal(signal.SIGTERM)  # graceful: flush, commit, leave the group
        codes = [proc.wait(timeout=30) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
        errors = [proc.communicate()[1].decode(errors="replace") for proc in procs]
    assert codes == [0, 0], errors
    assert owned[0] and owned[1] and not owned[0] & owned[1]
    assert owned[0] | owned[1] == {0, 1, 2, 3}

    rows = pl.from_arrow(read_table(out))
    keys = ["_source_partition", "_source_offset", "_source_line"]
    assert rows.height == sent.lines - 2 * COPIES  # header lines are not rows
    assert rows.select(keys).n_unique() == rows.height
    assert set(rows["_source_partition"]) == {0, 1, 2, 3}
    assert range_records(out) == []
