"""The platform's topics: one per producing service, each with its dead-letter topic."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from kairos_schemas import PLATFORM_TOPICS, dead_letter_topic

SERVICES = ("identity", "habilitation", "declaration", "notification")


async def create_topics(
    bootstrap_servers: str,
    names: list[str],
    *,
    partitions: int = 3,
    replication: int = 1,
    timeout: float = 30.0,
) -> None:
    """Create each topic that does not exist yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        if missing:
            # Created concurrently by someone else is what we wanted too.
            with contextlib.suppress(TopicAlreadyExistsError):
                await asyncio.wait_for(
                    admin.create_topics(
                        [NewTopic(name, partitions, replication) for name in missing]
                    ),
                    timeout,
                )
    finally:
        await admin.close()


async def create_platform_topics(bootstrap_servers: str, replication: int = 1) -> None:
    await create_topics(
        bootstrap_servers, list(PLATFORM_TOPICS), partitions=6, replication=replication
    )
    await create_topics(
        bootstrap_servers,
        [dead_letter_topic(topic) for topic in PLATFORM_TOPICS],
        partitions=1,
        replication=replication,
    )
