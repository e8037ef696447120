"""The transactional outbox: events are written with the state change that causes them.

A handler writes its rows and calls :func:`append` on the *same* connection, inside the same
transaction: either both commit or neither does, so an event is never published for a change
that rolled back, nor lost for one that committed. :mod:`kairos_shared.relay` publishes the rows.

Each append sends ``NOTIFY kairos_outbox`` to wake the relays; PostgreSQL folds identical
notifications of one transaction into one, delivered at commit (never for a rollback).

Appended inside a trace (an HTTP request's span, a consumer's), a row also carries that trace's
W3C context as ``traceparent``/``tracestate`` headers, published with it: its consumers' spans
join the same trace (:mod:`kairos_shared.tracing`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kairos_schemas import Event, to_cloudevent
from kairos_shared.correlation import current_correlation_id
from kairos_shared.db import Connection
from kairos_shared.tracing import with_trace_headers

NOTIFY_CHANNEL = "kairos_outbox"


@dataclass(frozen=True)
class OutboxMessage:
    """One Kafka record to publish: the CloudEvent in binary mode, keyed by its aggregate."""

    event_id: str
    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def lock_key(self) -> int:
        """A signed 32-bit hash of (topic, key), for the relay's per-key advisory lock."""
        digest = hashlib.blake2b(self.topic.encode() + b"\0" + self.key, digest_size=4).digest()
        return int.from_bytes(digest, "big", signed=True)


def outbox_message(event: Event, *, source: str, topic: str | None = None) -> OutboxMessage:
    """``event`` as a CloudEvent in Kafka binary mode, carrying the current correlation id.

    ``topic`` defaults to the event's own topic (tests give throwaway topics).
    """
    cloudevent = to_cloudevent(event, source=source, correlation_id=current_correlation_id())
    record = cloudevent.to_kafka()
    return OutboxMessage(
        event_id=cloudevent.id,
        topic=topic or event.topic,
        key=record.key,
        value=record.value,
        headers=tuple(record.headers),
    )


async def publish(connection: Connection, events: Iterable[Event], *, source: str) -> int:
    """Queue domain events in the caller's transaction (see :func:`append`)."""
    return await append(connection, (outbox_message(event, source=source) for event in events))


async def append(connection: Connection, messages: Iterable[OutboxMessage]) -> int:
    """Queue ``messages`` for publication in the caller's transaction; returns how many.

    Must run inside a transaction (``async with connection.transaction():``): outside one the
    rows would commit on their own, apart from the state change they belong to. The current trace
    context is added to the headers of messages that carry none.
    """
    batch: Sequence[OutboxMessage] = list(messages)
    if not batch:
        return 0
    if not connection.is_in_transaction():
        raise RuntimeError("outbox.append must run inside the state change's transaction")
    rows = []
    for message in batch:
        headers = with_trace_headers(message.headers)
        rows.append((
            message.event_id, message.topic, message.key, message.value,
            [name for name, _ in headers], [value for _, value in headers], message.lock_key,
        ))  # fmt: skip
    await connection.executemany(
        """
        INSERT INTO outbox (event_id, topic, key, value, header_names, header_values, lock_key)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        rows,
    )
    await connection.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)
    return len(batch)
