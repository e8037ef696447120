"""The outbox relay: publishes committed outbox rows to Kafka, in order per key, at least once.

Each round claims up to ``batch_size`` of the oldest unpublished rows in one transaction:
it takes an advisory lock per (topic, key) — ``pg_try_advisory_xact_lock`` — and keeps only the
rows whose key it could lock, ``FOR UPDATE SKIP LOCKED``; so several relays (one per replica)
share the work but never publish the same key at once, and a key's rows go out in id order.
Rows are sent with an idempotent producer (``acks=all``), awaited, then marked published in the
same transaction. A relay that dies after Kafka acknowledged but before the commit publishes those
rows again: consumers are idempotent (:mod:`kairos_shared.inbox`), so the effect happens once.

A row Kafka refuses for its size or content (:data:`REFUSED_FOR_CONTENT`: larger than the
producer's ``max_request_size`` or the broker's ``message.max.bytes``, a corrupt record) would be
refused again on every round and block every row behind it: it is *parked* instead, moved to the
``outbox_parked`` table with the reason, logged at error level and counted
(``kairos_outbox_events_parked_total``); the rows after it, of its key too, are published. Order
per key is kept among the rows that are published; a parked row is the operator's to repair
(``kairos outbox parked``). Any other error (a broker down, a timeout) fails the round, which is
retried: those rows wait, as they must.

The relay sleeps until ``NOTIFY kairos_outbox`` (sent by each committing writer) or until the
polling interval passes, whichever comes first; published rows are purged after a retention.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    CorruptRecordException,
    InvalidMessageError,
    MessageSizeTooLargeError,
    OutOfOrderSequenceNumber,
    RecordListTooLargeError,
    RecordTooLargeError,
)

from kairos_shared.db import Connection
from kairos_shared.kafka import kafka_client_options
from kairos_shared.kafka_settings import KafkaSecuritySettings
from kairos_shared.metrics import ServiceMetrics
from kairos_shared.outbox import NOTIFY_CHANNEL

log = structlog.get_logger(__name__)

# Namespace of the relay's advisory locks (the two-key form): "KO" for Kairos outbox.
_LOCK_NAMESPACE = 0x4B4F

_CLAIM = """
WITH candidates AS MATERIALIZED (
    SELECT id, lock_key FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1
), claimed_keys AS MATERIALIZED (
    SELECT lock_key FROM (SELECT DISTINCT lock_key FROM candidates) AS keys
    WHERE pg_try_advisory_xact_lock($2, lock_key)
)
SELECT id, event_id, topic, key, value, header_names, header_values
FROM outbox
WHERE id = ANY (ARRAY(
    SELECT id FROM candidates WHERE lock_key IN (SELECT lock_key FROM claimed_keys)
))
  AND published_at IS NULL
ORDER BY id
FOR UPDATE SKIP LOCKED
"""
"""The claimed ids are gathered into an array first (an InitPlan, computed once) and the rows
fetched by primary key: with ``id IN (SELECT …)`` and statistics from when the table had few
unpublished rows, the planner chose a nested loop that scanned the candidates again for every
outbox row — 50 s to claim 500 of 2000 rows (found by ``bench/declarations.py``)."""
#: What Kafka says of a record that will never be accepted as it is: parked, never retried.
REFUSED_FOR_CONTENT: tuple[type[Exception], ...] = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    CorruptRecordException,
    InvalidMessageError,
)
_PARK = """
WITH moved AS (DELETE FROM outbox WHERE id = $1 RETURNING *)
INSERT INTO outbox_parked
    (id, event_id, topic, key, value, header_names, header_values, created_at, reason)
SELECT id, event_id, topic, key, value, header_names, header_values, created_at, $2 FROM moved
"""
_MARK = "UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])"
_PURGE = """
DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox WHERE published_at < clock_timestamp() - $1::interval LIMIT 10000
)
"""


Refusal = tuple[asyncpg.Record, Exception]


def _sort_results(
    sent: list[tuple[asyncpg.Record, asyncio.Future[object]]], results: list[object]
) -> tuple[list[asyncpg.Record], list[Refusal]]:
    """The rows the broker accepted, and those it refused for their content (with the rows
    refused as out of sequence behind them); any other failure is raised: the round is retried."""
    published: list[asyncpg.Record] = []
    refused: list[Refusal] = []
    out_of_step: list[Refusal] = []
    for (row, _), result in zip(sent, results, strict=True):
        if isinstance(result, REFUSED_FOR_CONTENT):
            refused.append((row, result))
        elif isinstance(result, OutOfOrderSequenceNumber):
            out_of_step.append((row, result))  # behind a refused batch of its partition
        elif isinstance(result, BaseException):
            raise result
        else:
            published.append(row)
    if out_of_step and not refused:
        raise out_of_step[0][1]
    return published, sorted([*refused, *out_of_step], key=lambda refusal: int(refusal[0]["id"]))


@dataclass(frozen=True)
class RelaySettings:
    batch_size: int = 500
    poll_interval: float = 1.0
    retention: timedelta = timedelta(days=1)
    purge_every: float = 300.0
    max_backoff: float = 10.0
    linger_ms: int = 0
    #: the producer's ``max_request_size`` (aiokafka's default, 1 MiB); tests lower it
    max_request_size: int = 1_048_576


class OutboxRelay:
    """Publishes one database's outbox; run one per service replica."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        dsn: str,
        bootstrap_servers: str,
        *,
        client_id: str,
        settings: RelaySettings | None = None,
        metrics: ServiceMetrics | None = None,
        security: KafkaSecuritySettings | None = None,
    ) -> None:
        self.pool = pool
        self.metrics = metrics
        self.dsn = dsn
        self.settings = settings or RelaySettings()
        self._producer_options = {
            "bootstrap_servers": bootstrap_servers.split(","),
            "client_id": f"{client_id}-outbox-relay",
            "enable_idempotence": True,  # forces acks=all: a retried send is never written twice
            "acks": "all",
            "linger_ms": self.settings.linger_ms,
            "max_request_size": self.settings.max_request_size,
            **kafka_client_options(security),
        }
        self.producer = AIOKafkaProducer(**self._producer_options)
        self._wake = asyncio.Event()
        self.published = 0
        self.parked = 0
        self.last_error: str | None = None
        self._producer_to_start = False
        self._last_success: float | None = None  # loop time of the last round that succeeded

    async def publish_batch(self) -> int:
        """Claim, publish and mark one batch; returns how many rows it settled (published, or
        parked when Kafka refused them for their size or content)."""
        if self._producer_to_start:
            await self.producer.start()
            self._producer_to_start = False
        async with self.pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(_CLAIM, self.settings.batch_size, _LOCK_NAMESPACE)
            if not rows:
                return 0
            alone: list[tuple[asyncpg.Record, Exception]] = []  # refused by the producer
            sent: list[tuple[asyncpg.Record, asyncio.Future[object]]] = []
            for row in rows:
                try:
                    future = await self._send(row)
                except REFUSED_FOR_CONTENT as too_large:  # the producer's own check
                    alone.append((row, too_large))
                    continue
                sent.append((row, future))
            results = await asyncio.gather(*(future for _, future in sent), return_exceptions=True)
            published, refused = _sort_results(sent, results)
            if refused:
                await self._renew_producer()
            refused = [
                (row, refusal)
                for row, refusal in refused
                if not await self._accepted_alone(row, published)
            ]
            refused = [*alone, *refused]
            for row, refusal in refused:
                await self._park(connection, row, refusal)
            await self._mark_published(connection, [row["id"] for row in published])
        self.published += len(published)
        self.parked += len(refused)
        if self.metrics is not None:
            for topic, count in Counter(str(row["topic"]) for row in published).items():
                self.metrics.events_published.labels(topic).inc(count)
            for topic, count in Counter(str(row["topic"]) for row, _ in refused).items():
                self.metrics.events_parked.labels(topic).inc(count)
        return len(rows)

    async def _renew_producer(self) -> None:
        """A new producer (a new idempotent producer id): after the broker refused a batch, the
        old one's sequence numbers for that partition are out of step with the broker's."""
        await self.producer.stop()
        self.producer = AIOKafkaProducer(**self._producer_options)
        self._producer_to_start = True  # if Kafka fails now, the next round starts it
        await self.producer.start()
        self._producer_to_start = False

    async def _accepted_alone(self, row: asyncpg.Record, published: list[asyncpg.Record]) -> bool:
        """The broker refuses a whole record batch (a partition's rows sent together) when one
        record is too large: the rows it refused are sent again one at a time, in id order, so
        only the culprit is parked; so are the rows sent after that batch to its partition, which
        the broker refuses as out of sequence. A row the producer refused was judged alone."""
        try:
            await (await self._send(row))
        except REFUSED_FOR_CONTENT:
            await self._renew_producer()  # its sequence numbers are out of step again
            return False
        published.append(row)
        return True

    async def _send(self, row: asyncpg.Record) -> asyncio.Future[object]:
        future: asyncio.Future[object] = await self.producer.send(
            row["topic"],
            value=row["value"],
            key=row["key"],
            headers=list(zip(row["header_names"], row["header_values"], strict=True)),
        )
        return future

    async def _park(self, connection: Connection, row: asyncpg.Record, error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"[:1000]
        await connection.execute(_PARK, row["id"], reason)
        log.error(
            "outbox row parked: Kafka refused it, it will not be retried",
            outbox_id=row["id"],
            event_id=row["event_id"],
            topic=row["topic"],
            size_bytes=len(row["value"]),
            reason=reason,
        )

    async def _mark_published(self, connection: Connection, ids: list[int]) -> None:
        await connection.execute(_MARK, ids)

    async def drain(self) -> int:
        """Publish until a round finds less than a full batch."""
        total = 0
        while True:
            count = await self.publish_batch()
            total += count
            if count < self.settings.batch_size:
                return total

    async def purge(self) -> int:
        async with self.pool.acquire() as connection:
            status = await connection.execute(_PURGE, self.settings.retention)
        return int(status.rsplit(" ", 1)[-1])

    async def run(self) -> None:
        """Publish until cancelled; failures are logged and retried with back-off."""
        await self.producer.start()
        self._last_success = asyncio.get_running_loop().time()
        listener: asyncpg.Connection | None = None
        backoff = 0.1
        loop = asyncio.get_running_loop()
        next_purge = loop.time() + self.settings.purge_every
        try:
            while True:
                listener = await self._listen(listener)
                self._wake.clear()
                try:
                    await self.drain()
                    if loop.time() >= next_purge:
                        await self.purge()
                        next_purge = loop.time() + self.settings.purge_every
                except Exception as error:  # noqa: BLE001 - PostgreSQL or Kafka down: retried
                    self.last_error = repr(error)
                    log.warning("outbox relay round failed", error=repr(error), retry_in_s=backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.settings.max_backoff)
                    continue
                backoff = 0.1
                self._last_success, self.last_error = loop.time(), None
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a
                # cancellation that comes with a wake-up, and the relay would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.settings.poll_interval):
                        await self._wake.wait()
        finally:
            if listener is not None and not listener.is_closed():
                await listener.close()
            await self.producer.stop()

    def stalled_for(self) -> float:
        """Seconds since the last round that drained the outbox (0 while rounds succeed, or
        before the first): every round since failed, and the rows waiting did not move."""
        if self.last_error is None or self._last_success is None:
            return 0.0
        return max(asyncio.get_running_loop().time() - self._last_success, 0.0)

    async def _listen(self, listener: asyncpg.Connection | None) -> asyncpg.Connection | None:
        """A connection LISTENing for wake-ups; re-opened if it was lost (polling covers gaps)."""
        if listener is not None and not listener.is_closed():
            return listener
        connection: asyncpg.Connection | None = None
        try:
            connection = await asyncpg.connect(self.dsn)
            await connection.add_listener(NOTIFY_CHANNEL, self._on_notify)
        except (OSError, asyncpg.PostgresError) as error:
            if connection is not None:
                connection.terminate()
            log.warning("outbox relay cannot listen, polling", error=str(error))
            return None
        except BaseException:  # cancelled (shutdown) while opening: the connection is ours to close
            if connection is not None:
                connection.terminate()
            raise
        return connection

    def _on_notify(self, *_: object) -> None:
        self._wake.set()


_LIST_PARKED = """
SELECT id, event_id, topic, convert_from(key, 'UTF8') AS key, octet_length(value) AS size_bytes,
       created_at, parked_at, reason
FROM outbox_parked ORDER BY id
"""


async def list_parked(connection: Connection) -> list[dict[str, object]]:
    """The parked outbox rows, oldest first: id, event id, topic, key, size, when, why."""
    return [dict(row) for row in await connection.fetch(_LIST_PARKED)]
