"""Binding an :class:`~kairos_shared.inbox.IdempotentConsumer` to a FastStream Kafka subscriber.

The subscriber uses ``AckPolicy.MANUAL`` (FastStream's default, ``ACK_FIRST``, commits before the
handler runs: at-most-once). After :meth:`IdempotentConsumer.process` returns, the record's own
offset + 1 is committed explicitly; when it asks for a retry (database down, dead-letter topic
unreachable), the consumer seeks back to the record, after a pause, so it is read again and
nothing after it is committed in its place.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from kairos_shared.inbox import IdempotentConsumer, Outcome

log = structlog.get_logger(__name__)


def subscribe(
    broker: KafkaBroker,
    topic: str,
    consumer: IdempotentConsumer,
    *,
    group_id: str | None = None,
    group_instance_id: str | None = None,
    retry_pause: float = 1.0,
) -> Any:
    """Register ``consumer`` on ``topic`` in consumer group ``group_id`` (default: its name)."""

    @broker.subscriber(
        topic,
        group_id=group_id or consumer.name,
        group_instance_id=group_instance_id,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        title=f"{consumer.name}:{topic}",
    )
    async def on_record(message: KafkaMessage) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple), "a single-record subscriber gets one record"
        partition = TopicPartition(record.topic, record.partition)
        try:
            outcome = await consumer.process(record)
        except Exception as error:  # noqa: BLE001 - whatever it was, the record is read again
            log.warning("record not processed, will be read again", error=repr(error))
            outcome = Outcome.RETRY
        kafka_consumer: Any = message.consumer
        if outcome is Outcome.RETRY:
            await asyncio.sleep(retry_pause)
            kafka_consumer.seek(partition, record.offset)
            return
        try:
            await kafka_consumer.commit({partition: record.offset + 1})
        except (CommitFailedError, IllegalStateError) as error:
            # The partition moved to another member in a rebalance: it will read the record
            # again and its inbox will recognise the event.
            log.warning("offset commit refused after a rebalance", error=str(error))

    return on_record
