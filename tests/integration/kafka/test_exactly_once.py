"""Replayed sample logs land in Parquet exactly once, from several topics at once."""

from __future__ import annotations

import polars as pl
import pytest

from ingest.file_source import ingest_files
from ingest.kafka_source import KafkaSource
from ingest.replay import load_lines, replay
from tests.integration.kafka.support import SAMPLES, range_records, read_table

pytestmark = pytest.mark.integration

COPIES = 3
# sample file, format given on the command line ("auto" = detected per batch)
SAMPLES_BY_TOPIC = {
    "cloudfront": (SAMPLES / "cloudfront" / "live_match.log", "cloudfront_standard"),
    "fastly": (SAMPLES / "fastly" / "recommended.log", "auto"),
    "cloudflare": (SAMPLES / "cloudflare" / "live_match.log", "auto"),
}
LINEAGE = ["_source_file", "_source_line", "_source_topic", "_source_partition", "_source_offset"]


def canonical(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows without lineage and partition columns, in a stable order, for comparison."""
    keep = [c for c in rows.columns if c not in (*LINEAGE, "dt", "hour")]
    return rows.select(keep).sort(keep, nulls_last=True)


def reference(path: str, tmp_path, settings_factory) -> pl.DataFrame:
    """The rows file ingest makes of `path`, COPIES times over."""
    out = str(tmp_path / f"ref-{abs(hash(path))}")
    ingest_files([path], settings_factory(out=out))
    rows = pl.from_arrow(read_table(out))
    assert isinstance(rows, pl.DataFrame) and rows.height > 0
    return pl.concat([rows] * COPIES)


@pytest.mark.parametrize(
    ("lines_per_message", "compress"),
    [pytest.param(1, False, id="one-line-messages"), pytest.param(5, True, id="gzip-batches-of-5")],
)
def test_every_replayed_row_arrives_exactly_once(
    lines_per_message,
    compress,
    tmp_path,
    topic_factory,
    producer,
    kafka_settings_factory,
    ingest_settings_factory,
):
    topics = {
        name: (topic_factory(partitions=3, prefix=name), *spec)
        for name, spec in SAMPLES_BY_TOPIC.items()
    }
    sent = 0
    for topic, path, _ in topics.values():
        lines = load_lines([str(path)] * COPIES)
        sent += replay(
            lines, producer, topic, lines_per_message=lines_per_message, compress=compress
        ).messages
    ingest = ingest_settings_factory()
    kafka = kafka_settings_factory({t: fmt for t, _, fmt in topics.values()}, flush_max_messages=7)

    summary = KafkaSource(ingest, kafka).run(idle_timeout_s=3)

    rows = pl.from_arrow(read_table(ingest.out))
    assert isinstance(rows, pl.DataFrame)
    assert rows.height == summary.rows_written
    keys = rows.select("_source_topic", "_source_partition", "_source_offset", "_source_line")
    assert keys.n_unique() == rows.height, "a row was written twice"
    for topic, path, _ in topics.values():
        got = canonical(rows.filter(pl.col("_source_topic") == topic))
        want = canonical(reference(str(path), tmp_path, ingest_settings_factory))
        assert got.equals(want), f"rows of {topic} differ from file ingest"
    assert range_records(ingest.out) == []

    # The group committed everything: a restart reads nothing and changes nothing.
    again = KafkaSource(ingest, kafka).run(idle_timeout_s=2)
    assert again.lines_read == 0
    assert read_table(ingest.out).num_rows == rows.height
