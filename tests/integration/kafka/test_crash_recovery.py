"""A consumer killed with SIGKILL mid-batch and restarted yields the same rows, no more, no fewer."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from ingest.file_source import ingest_files
from ingest.kafka_source import KafkaSource
from ingest.replay import load_lines, replay
from ingest.storage import resolve
from tests.integration.kafka.support import (
    REPO,
    SAMPLES,
    fast_group_env,
    range_records,
    read_table,
    wait_for,
)

pytestmark = pytest.mark.integration

SAMPLE = str(SAMPLES / "cloudfront" / "live_match.log")
COPIES = 6
POISON = b"\xff\xfe not UTF-8 \xc3\x28"  # quarantined as invalid_utf8 whatever the batch
LINEAGE = ["_source_file", "_source_line", "_source_topic", "_source_partition", "_source_offset"]


def _raw_stems(out: str) -> set[str]:
    return {Path(p).stem for p in resolve(out).join("raw").parquet_files()}


def _in_flight(out: str) -> list[str]:
    """Stems of recorded (uncommitted) ranges that already have a raw file written."""
    written = _raw_stems(out)
    stems = []
    for record in range_records(out):
        part = Path(record).parent
        first, last = Path(record).stem.split("-")
        stem = f"kafka-{part.parent.name}-{part.name}-{first}-{last}"
        if stem in written:
            stems.append(stem)
    return stems


def _canonical(rows: pl.DataFrame) -> pl.DataFrame:
    keep = [c for c in rows.columns if c not in (*LINEAGE, "dt", "hour")]
    return rows.select(keep).sort(keep, nulls_last=True)


def _publish(topic: str, producer) -> int:
    """COPIES replays of the sample, with a poison message to each partition between them."""
    lines = load_lines([SAMPLE])
    for _ in range(COPIES):
        replay(lines, producer, topic, lines_per_message=3)
        for partition in (0, 1):
            producer.send(topic, POISON, partition=partition)
    producer.flush()
    return 2 * COPIES


def test_sigkill_mid_batch_then_restart_writes_the_same_rows(
    tmp_path,
    topic_factory,
    group,
    kafka_broker,
    producer,
    kafka_settings_factory,
    ingest_settings_factory,
):
    topic = topic_factory(partitions=2)
    poison = _publish(topic, producer)
    out = str(tmp_path / "data")
    env = fast_group_env() | {"CDN_OFFLOAD_KAFKA_FLUSH_MAX_MESSAGES": "4"}
    cmd = [
        sys.executable,
        "-m",
        "tests.integration.kafka.slow_consumer",
        "0.3",
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
    ]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.PIPE)
    try:
        killed_in = wait_for(lambda: _in_flight(out), timeout_s=60, step_s=0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        stderr = proc.communicate()[1].decode(errors="replace")
    assert proc.returncode == -signal.SIGKILL, stderr
    assert _in_flight(out), "the killed batch should be written but not committed"
    before = _raw_stems(out)

    # The restart cuts its own batches at 7 messages, except the ranges it must rewrite.
    ingest = ingest_settings_factory(out=out)
    kafka = kafka_settings_factory({topic: "cloudfront_standard"}, flush_max_messages=7)
    KafkaSource(ingest, kafka).run(idle_timeout_s=3)

    rows = pl.from_arrow(read_table(out))
    rejects = pl.from_arrow(read_table(out, "quarantine"))
    keys = ["_source_partition", "_source_offset", "_source_line"]
    assert rows.select(keys).n_unique() == rows.height, "a row was written twice"
    assert rejects.select(keys).n_unique() == rejects.height, "a reject was written twice"
    assert rejects.height == poison
    assert set(rejects["reason_code"]) == {"invalid_utf8"}

    reference_out = str(tmp_path / "reference")
    ingest_files([SAMPLE], ingest_settings_factory(out=reference_out))
    reference = pl.from_arrow(read_table(reference_out))
    assert _canonical(rows).equals(_canonical(pl.concat([reference] * COPIES)))

    after = _raw_stems(out)
    assert set(killed_in) <= after and before <= after, (
        "ranges started before the kill were rewritten"
    )
    assert range_records(out) == []
