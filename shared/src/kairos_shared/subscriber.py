"""Binding an :class:`~kairos_shared.inbox.IdempotentConsumer` to a FastStream Kafka subscriber.

The subscriber uses ``AckPolicy.MANUAL`` (FastStream's default, ``ACK_FIRST``, commits before the
handler runs: at-most-once). After :meth:`IdempotentConsumer.process` returns, the record's own
offset + 1 is committed explicitly; when it asks for a retry (database down, dead-letter topic
unreachable), the consumer seeks back to the record, after a pause, so it is read again and
nothing after it is committed in its place.

Each record is processed in a consumer span (child of the ``traceparent`` it carries) and counted
and timed in the app's metrics by topic, event type and outcome.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

import structlog
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry.trace import Status, StatusCode

from kairos_shared.inbox import IdempotentConsumer, Outcome
from kairos_shared.metrics import OTHER_EVENT_TYPE, ServiceMetrics
from kairos_shared.tracing import Tracing, consumer_span

log = structlog.get_logger(__name__)


def subscribe(
    broker: KafkaBroker,
    topic: str,
    consumer: IdempotentConsumer,
    *,
    group_id: str | None = None,
    group_instance_id: str | None = None,
    retry_pause: float = 1.0,
    offset_reset: Literal["earliest", "latest"] = "earliest",
    metrics: ServiceMetrics | None = None,
    tracing: Tracing | None = None,
) -> Any:
    """Register ``consumer`` on ``topic`` in consumer group ``group_id`` (default: its name)."""
    group = group_id or consumer.name
    tracing = tracing or Tracing()

    @broker.subscriber(
        topic,
        group_id=group,
        group_instance_id=group_instance_id,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset=offset_reset,
        title=f"{consumer.name}:{topic}",
    )
    async def on_record(message: KafkaMessage) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple), "a single-record subscriber gets one record"
        partition = TopicPartition(record.topic, record.partition)
        started = time.perf_counter()
        outcome = await _process_in_span(consumer, record, tracing, group)
        if metrics is not None:
            event_type = _event_type(consumer, record)
            metrics.events_consumed.labels(record.topic, event_type, outcome.value).inc()
            metrics.event_handling.labels(record.topic, event_type).observe(
                time.perf_counter() - started
            )
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


async def _process_in_span(
    consumer: IdempotentConsumer, record: ConsumerRecord[bytes, bytes], tracing: Tracing, group: str
) -> Outcome:
    """``consumer.process(record)`` in a consumer span, child of the record's trace context."""
    with consumer_span(
        tracing, topic=record.topic, partition=record.partition, offset=record.offset,
        headers=list(record.headers or ()), group=group,
    ) as span:  # fmt: skip
        try:
            outcome = await consumer.process(record)
        except Exception as error:  # noqa: BLE001 - whatever it was, the record is read again
            log.warning("record not processed, will be read again", error=repr(error))
            outcome = Outcome.RETRY
        span.set_attribute("kairos.outcome", outcome.value)
        if outcome in {Outcome.RETRY, Outcome.DEAD_LETTERED}:
            span.set_status(Status(StatusCode.ERROR, outcome.value))
    return outcome


def _event_type(consumer: IdempotentConsumer, record: ConsumerRecord[bytes, bytes]) -> str:
    """The record's ``ce_type`` when the consumer handles it, else "other" (bounded labels)."""
    raw = next((value for name, value in record.headers or () if name == "ce_type"), b"")
    event_type = raw.decode("utf-8", errors="replace")
    return event_type if event_type in consumer.handlers else OTHER_EVENT_TYPE
