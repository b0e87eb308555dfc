"""`--out s3://...` for file and Kafka ingest, against moto's S3 server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pytest

from cdn_offload.local_broker import free_port
from ingest.file_source import ingest_files
from ingest.kafka_source import KafkaSource
from ingest.storage import resolve
from tests.integration.kafka.support import SAMPLES, range_records, read_table

pytestmark = pytest.mark.integration

BUCKET = "cdn-logs"
FILES = [
    str(SAMPLES / "cloudfront" / "live_match.log"),
    str(SAMPLES / "cloudfront" / "malformed.log"),
]


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A moto S3 server with one empty bucket; AWS_* variables point at it."""
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    for key, value in {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield client
    server.stop()


def _keys(client, prefix: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def _sorted(table) -> pl.DataFrame:
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    return df.sort(["_source_file", "_source_line"])


def test_file_ingest_to_s3_reads_back_like_local_and_is_idempotent(
    s3, tmp_path, ingest_settings_factory
):
    uri = f"s3://{BUCKET}/files"
    first = ingest_files(FILES, ingest_settings_factory(out=uri))
    keys = _keys(s3, "files/")
    again = ingest_files(FILES, ingest_settings_factory(out=uri))

    assert _keys(s3, "files/") == keys, "a re-run must overwrite the same objects"
    assert first.rows_written == again.rows_written > 0
    assert not [k for k in keys if "/." in k or k.endswith(".tmp")]
    local = str(tmp_path / "local")
    ingest_files(FILES, ingest_settings_factory(out=local))
    assert _sorted(read_table(uri)).equals(_sorted(read_table(local)))
    assert read_table(uri, "quarantine").num_rows == first.rows_quarantined > 0
    assert resolve(uri).join("raw").dataset().count_rows() == first.rows_written


def test_kafka_ingest_to_s3(
    s3, topic_factory, producer, kafka_settings_factory, ingest_settings_factory
):
    topic = topic_factory(partitions=2)
    lines = [
        line
        for line in (SAMPLES / "cloudfront" / "live_match.log").read_bytes().splitlines()
        if not line.startswith(b"#")
    ]
    for line in [*lines, b"not a log line"]:
        producer.send(topic, line)
    producer.flush()
    uri = f"s3://{BUCKET}/kafka"
    ingest = ingest_settings_factory(out=uri)

    summary = KafkaSource(ingest, kafka_settings_factory({topic: "cloudfront_standard"})).run(
        idle_timeout_s=3
    )

    assert summary.rows_written == len(lines) == read_table(uri).num_rows
    assert read_table(uri, "quarantine").num_rows == 1
    assert range_records(uri) == []
    data_keys = [k for k in _keys(s3, "kafka/") if not k.startswith("kafka/_kafka/")]
    assert data_keys and all(
        k.startswith(("kafka/raw/dt=", "kafka/quarantine/kafka/")) for k in data_keys
    ), data_keys
