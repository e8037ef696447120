"""The FastStream Kafka broker of a service.

The producer is idempotent (``enable_idempotence`` forces ``acks=all``) so a retried send never
writes twice. Subscribers must not use FastStream's default ``ACK_FIRST`` for business events:
the consumer helpers (Foundation II) acknowledge only after the database transaction commits.
"""

from __future__ import annotations

import logging

from aiokafka.client import AIOKafkaClient
from faststream.kafka import KafkaBroker


def make_broker(bootstrap_servers: str, *, client_id: str) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers.split(","),
        client_id=client_id,
        enable_idempotence=True,
        logger=logging.getLogger(f"kairos.{client_id}.kafka"),
    )


async def bootstrap_kafka(bootstrap_servers: str) -> None:
    """Raise unless a Kafka broker answers a metadata request; leaves no connection open."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap_servers.split(","))
    try:
        await client.bootstrap()
    finally:
        await client.close()
