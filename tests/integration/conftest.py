"""Integration fixtures: one local Tansu broker per session, a fresh topic and group per test.

Follows Quix's fixtures: a session-scoped broker, `*_factory` fixtures plus default
ones. Tansu holds a group join for half the session timeout, so the settings made
here use a short session timeout to keep tests fast.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cdn_offload.local_broker import LocalBroker, free_port
from ingest.config import IngestSettings, load_settings
from ingest.kafka_config import KafkaSettings, load_kafka_settings
from tests.integration.kafka.support import FAST_GROUP


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[LocalBroker]:
    with LocalBroker() as broker:
        yield broker


@pytest.fixture
def topic_factory(kafka_broker: LocalBroker) -> Callable[..., str]:
    def make(partitions: int = 1, prefix: str = "logs") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        kafka_broker.create_topics({name: partitions})
        return name

    return make


@pytest.fixture
def topic(topic_factory: Callable[..., str]) -> str:
    return topic_factory(partitions=3)


@pytest.fixture
def group() -> str:
    return f"group-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def kafka_settings_factory(kafka_broker: LocalBroker, group: str) -> Callable[..., KafkaSettings]:
    def make(topics: dict[str, str] | list[str], **overrides: Any) -> KafkaSettings:
        values = {**FAST_GROUP, **overrides}
        values.setdefault("group_id", group)
        return load_kafka_settings(
            bootstrap_servers=kafka_broker.bootstrap_servers, topics=topics, **values
        )

    return make


@pytest.fixture
def ingest_settings_factory(tmp_path: Path) -> Callable[..., IngestSettings]:
    def make(out: str | None = None, **overrides: Any) -> IngestSettings:
        return load_settings(out=out or str(tmp_path / "data"), **overrides)

    return make


@pytest.fixture
def producer(kafka_broker: LocalBroker) -> Iterator[Any]:
    from kafka import KafkaProducer

    prod = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers, linger_ms=5)
    yield prod
    prod.close()


@pytest.fixture
def metrics_port() -> int:
    return free_port()
