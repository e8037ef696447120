"""Idempotent consumers: each event's effect is applied once, however often it is delivered.

:meth:`IdempotentConsumer.process` takes one Kafka record and

1. reads it as a CloudEvent (binary mode); an unreadable record is dead-lettered at once;
2. skips event types this consumer has no handler for;
3. in one transaction, records the event id in the ``inbox`` table and runs the handler: a
   redelivered event finds its id there and is skipped; a failed handler leaves no trace;
4. retries a failing handler with exponential back-off, then dead-letters the record
   (:mod:`kairos_shared.dead_letters`), so later messages of the partition keep flowing; an
   event that does not match its schema is dead-lettered without retries;
5. when the database itself is unreachable, asks to be redelivered later (``RETRY``) instead of
   dead-lettering: the message is fine, the infrastructure is not.

The caller commits the Kafka offset only after ``process`` returned something other than
``RETRY``: after the transaction committed, never before (no ``ACK_FIRST``).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
import structlog
from aiokafka import ConsumerRecord

from kairos_schemas import (
    REGISTRY,
    CloudEvent,
    Event,
    EventRegistry,
    EventValidationError,
    InvalidCloudEventError,
    parse_event,
)
from kairos_shared.correlation import correlation_scope
from kairos_shared.db import Connection
from kairos_shared.dead_letters import DeadLetterPublisher

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Delivery:
    """Where a consumed event came from."""

    cloudevent: CloudEvent
    topic: str
    partition: int
    offset: int


Handler = Callable[[Connection, Event, Delivery], Awaitable[None]]
E = TypeVar("E", bound=Event)


def typed_handler(
    event_class: type[E], apply: Callable[[Connection, E], Awaitable[None]]
) -> tuple[str, Handler]:
    """(event type, handler) for a consumer's handler table: `apply` gets the event as its own
    class (the registry parsed it from its type)."""

    async def handle(connection: Connection, event: Event, _delivery: Delivery) -> None:
        assert isinstance(event, event_class)
        await apply(connection, event)

    return event_class.event_type, handle


class Outcome(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    DEAD_LETTERED = "dead_lettered"
    RETRY = "retry"


class RejectedEventError(Exception):
    """Raised by a handler for an event that can never be applied: dead-lettered, no retry."""


_PERMANENT = (EventValidationError, RejectedEventError)
_INFRASTRUCTURE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    initial_backoff: float = 0.2
    max_backoff: float = 5.0

    def backoff(self, attempt: int) -> float:
        return float(min(self.initial_backoff * 2 ** (attempt - 1), self.max_backoff))


class IdempotentConsumer:
    def __init__(
        self,
        name: str,
        pool: asyncpg.Pool,
        handlers: Mapping[str, Handler],
        dead_letters: DeadLetterPublisher,
        *,
        retry: RetryPolicy | None = None,
        registry: EventRegistry = REGISTRY,
    ) -> None:
        self.name = name
        self.registry = registry
        self.pool = pool
        self.handlers = dict(handlers)
        self.dead_letters = dead_letters
        self.retry = retry or RetryPolicy()

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> Outcome:
        try:
            cloudevent = CloudEvent.from_kafka(record.key, record.value, list(record.headers))
        except InvalidCloudEventError as error:
            return await self._dead_letter(record, f"not a CloudEvent: {error}", attempts=1)
        handler = self.handlers.get(cloudevent.type)
        if handler is None:
            return Outcome.IGNORED
        delivery = Delivery(cloudevent, record.topic, record.partition, record.offset)
        with correlation_scope(
            cloudevent.correlationid,
            event_id=cloudevent.id,
            event_type=cloudevent.type,
            consumer=self.name,
        ):
            return await self._apply_with_retries(record, delivery, handler)

    async def _apply_with_retries(
        self, record: ConsumerRecord[bytes, bytes], delivery: Delivery, handler: Handler
    ) -> Outcome:
        attempt = 0
        while True:
            attempt += 1
            try:
                event = parse_event(delivery.cloudevent, registry=self.registry)
                return await self._apply_once(delivery, event, handler)
            except _PERMANENT as error:
                return await self._dead_letter(record, _describe(error), attempts=attempt)
            except _INFRASTRUCTURE as error:
                log.warning("database unavailable, event will be redelivered", error=str(error))
                return Outcome.RETRY
            except Exception as error:  # noqa: BLE001 - any handler failure is retried, then parked
                if attempt >= self.retry.max_attempts:
                    return await self._dead_letter(record, _describe(error), attempts=attempt)
                delay = self.retry.backoff(attempt)
                log.warning("handler failed, retrying", attempt=attempt, error=_describe(error))
                await asyncio.sleep(delay)

    async def _apply_once(self, delivery: Delivery, event: Event, handler: Handler) -> Outcome:
        async with self.pool.acquire() as connection, connection.transaction():
            first_time = await connection.fetchval(
                """
                INSERT INTO inbox (consumer, event_id, event_type, topic, kafka_partition,
                                   kafka_offset)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT DO NOTHING
                RETURNING true
                """,
                self.name,
                delivery.cloudevent.id,
                delivery.cloudevent.type,
                delivery.topic,
                delivery.partition,
                delivery.offset,
            )
            if not first_time:
                log.info("event already applied, skipped")
                return Outcome.DUPLICATE
            await handler(connection, event, delivery)
        log.info("event applied")
        return Outcome.APPLIED

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], error: str, *, attempts: int
    ) -> Outcome:
        await self.dead_letters.publish(record, consumer=self.name, error=error, attempts=attempts)
        log.error(
            "event dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            attempts=attempts,
            error=error,
        )
        return Outcome.DEAD_LETTERED


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
