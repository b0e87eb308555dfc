"""Topic administration shared by the local broker, the demo and operators' set-up."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def ensure_topics(
    connection: dict[str, Any], topics: dict[str, int], replication: int = 1
) -> list[str]:
    """Create each missing topic with its partition count; returns the names created.

    Args:
        connection: kafka-python connection arguments (`KafkaSettings.connection_config()`),
            so SASL/SSL clusters work through configuration alone.
        topics: topic name -> partition count.
        replication: replication factor of new topics (3 on a production cluster).
    """
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(**connection)
    created = []
    try:
        for name, partitions in topics.items():
            try:
                admin.create_topics([NewTopic(name, partitions, replication)])
                created.append(name)
            except TopicAlreadyExistsError:
                log.info("Topic already exists.", extra={"topic": name})
    finally:
        admin.close()
    return created
