"""The outbox relay: publishes committed outbox rows to Kafka, in order per key, at least once.

Each round claims up to ``batch_size`` of the oldest unpublished rows in one transaction:
it takes an advisory lock per (topic, key) — ``pg_try_advisory_xact_lock`` — and keeps only the
rows whose key it could lock, ``FOR UPDATE SKIP LOCKED``; so several relays (one per replica)
share the work but never publish the same key at once, and a key's rows go out in id order.
Rows are sent with an idempotent producer (``acks=all``), awaited, then marked published in the
same transaction. A relay that dies after Kafka acknowledged but before the commit publishes those
rows again: consumers are idempotent (:mod:`kairos_shared.inbox`), so the effect happens once.

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
SELECT id, topic, key, value, header_names, header_values
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
_MARK = "UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])"
_PURGE = """
DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox WHERE published_at < clock_timestamp() - $1::interval LIMIT 10000
)
"""


@dataclass(frozen=True)
class RelaySettings:
    batch_size: int = 500
    poll_interval: float = 1.0
    retention: timedelta = timedelta(days=1)
    purge_every: float = 300.0
    max_backoff: float = 10.0
    linger_ms: int = 0


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
        self.producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers.split(","),
            client_id=f"{client_id}-outbox-relay",
            enable_idempotence=True,  # forces acks=all: a retried send is never written twice
            acks="all",
            linger_ms=self.settings.linger_ms,
            **kafka_client_options(security),
        )
        self._wake = asyncio.Event()
        self.published = 0

    async def publish_batch(self) -> int:
        """Claim, publish and mark one batch; returns how many rows it published."""
        async with self.pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(_CLAIM, self.settings.batch_size, _LOCK_NAMESPACE)
            if not rows:
                return 0
            sent = [
                await self.producer.send(
                    row["topic"],
                    value=row["value"],
                    key=row["key"],
                    headers=list(zip(row["header_names"], row["header_values"], strict=True)),
                )
                for row in rows
            ]
            await asyncio.gather(*sent)
            await self._mark_published(connection, [row["id"] for row in rows])
        self.published += len(rows)
        if self.metrics is not None:
            for topic, count in Counter(str(row["topic"]) for row in rows).items():
                self.metrics.events_published.labels(topic).inc(count)
        return len(rows)

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
                    log.warning("outbox relay round failed", error=repr(error), retry_in_s=backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.settings.max_backoff)
                    continue
                backoff = 0.1
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a
                # cancellation that comes with a wake-up, and the relay would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.settings.poll_interval):
                        await self._wake.wait()
        finally:
            if listener is not None and not listener.is_closed():
                await listener.close()
            await self.producer.stop()

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
