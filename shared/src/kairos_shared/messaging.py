"""A service's Kafka side, started and stopped as one: the FastStream broker with the service's
idempotent subscriptions, the producer that parks dead letters, and the outbox relay.

Kafka may come up after the service: :meth:`Messaging.start` returns at once and connects in the
background, retrying with back-off; readiness reports "not connected yet" until it has.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream.kafka import KafkaBroker

from kairos_shared.dead_letters import DeadLetterPublisher
from kairos_shared.inbox import IdempotentConsumer
from kairos_shared.kafka import bootstrap_kafka, kafka_client_options
from kairos_shared.metrics import ServiceMetrics
from kairos_shared.relay import OutboxRelay
from kairos_shared.settings import ServiceSettings
from kairos_shared.subscriber import subscribe
from kairos_shared.tracing import Tracing

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Subscription:
    topic: str
    consumer: IdempotentConsumer


ConsumerFactory = Callable[[asyncpg.Pool, DeadLetterPublisher], Iterable[Subscription]]
"""Builds a service's subscriptions once its database pool is open."""


_FINISH_CONNECTING_SECONDS = 30.0


class KafkaUnavailableError(RuntimeError):
    """Kafka is not connected, or did not answer a ping."""


class Messaging:
    def __init__(
        self,
        settings: ServiceSettings,
        broker: KafkaBroker,
        consumers: ConsumerFactory | None = None,
        *,
        metrics: ServiceMetrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.settings = settings
        self.broker = broker
        self.consumers = consumers
        self.metrics = metrics
        self.tracing = tracing
        self.dead_letter_producer: AIOKafkaProducer | None = None
        self.relay: OutboxRelay | None = None
        self.connected = False
        self.error: str | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._attempting = False  # inside a connection attempt: not a point to cancel at
        self._relaying: asyncio.Task[None] | None = None

    async def start(self, pool: asyncpg.Pool) -> None:
        """Register the subscriptions, then connect in the background (aiokafka clients are
        created here: they belong to the running event loop)."""
        self.dead_letter_producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers.split(","),
            client_id=f"{self.settings.service_name}-dead-letters",
            enable_idempotence=True,
            acks="all",
            **kafka_client_options(self.settings),
        )
        if self.consumers is not None:
            prefix = self.settings.consumer_group_prefix or f"kairos-{self.settings.service_name}"
            dead_letters = DeadLetterPublisher(self.dead_letter_producer, metrics=self.metrics)
            for subscription in self.consumers(pool, dead_letters):
                subscribe(
                    self.broker,
                    subscription.topic,
                    subscription.consumer,
                    group_id=f"{prefix}-{subscription.consumer.name}",
                    offset_reset=self.settings.consumer_offset_reset,
                    metrics=self.metrics,
                    tracing=self.tracing,
                )
        if self.settings.outbox_relay_enabled:
            self.relay = OutboxRelay(
                pool,
                self.settings.database_url.get_secret_value(),
                self.settings.kafka_bootstrap_servers,
                client_id=self.settings.service_name,
                metrics=self.metrics,
                security=self.settings,
            )
        self._connecting = asyncio.create_task(self._connect())

    async def _connect(self) -> None:
        assert self.dead_letter_producer is not None
        delay = 0.5
        while True:
            self._attempting = True
            try:
                # A bare client first: a FastStream broker whose start() failed leaks its
                # producer, so the broker is only started once Kafka has answered.
                await bootstrap_kafka(self.settings.kafka_bootstrap_servers, self.settings)
                await self.dead_letter_producer.start()
                await self.broker.start()
            except Exception as error:  # noqa: BLE001 - any failure to connect is retried
                self._attempting = False
                self.error = f"{type(error).__name__}: {error}"
                log.warning("kafka not reachable, retrying", error=self.error, in_s=delay)
                with contextlib.suppress(Exception):
                    await self.dead_letter_producer.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.kafka_connect_retry_max_seconds)
                continue
            self._attempting = False
            if self.relay is not None:
                self._relaying = asyncio.create_task(self.relay.run())
            self.connected, self.error = True, None
            log.info("kafka connected", bootstrap_servers=self.settings.kafka_bootstrap_servers)
            return

    async def stop(self) -> None:
        connecting = self._connecting
        if connecting is not None and self._attempting:
            # Cancelling the broker's start half-way leaks its connections: let it finish.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(connecting), _FINISH_CONNECTING_SECONDS)
        for task in (self._connecting, self._relaying):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.connected:
            await self.broker.stop()
            if self.dead_letter_producer is not None:
                await self.dead_letter_producer.stop()
            self.connected = False

    def kafka_consumers(self) -> list[tuple[str, AIOKafkaConsumer]]:
        """The Kafka consumers FastStream runs for the subscriptions, with their group."""
        if not self.connected:
            return []
        running: list[tuple[str, AIOKafkaConsumer]] = []
        for subscriber in self.broker.subscribers:
            consumer = getattr(subscriber, "consumer", None)
            group = getattr(subscriber, "group_id", None)
            if isinstance(consumer, AIOKafkaConsumer) and group:
                running.append((str(group), consumer))
        return running

    async def wait_until_consuming(self, timeout: float = 60.0) -> None:
        """Return once every subscription's consumer has its partitions and a position in each
        (tests: with ``latest`` groups, an event published after this is seen)."""
        async with asyncio.timeout(timeout):
            while True:
                consumers = [consumer for _, consumer in self.kafka_consumers()]
                if len(consumers) == len(self.broker.subscribers) and all(
                    consumer.assignment() for consumer in consumers
                ):
                    break
                await asyncio.sleep(0.05)
            for consumer in consumers:
                for partition in consumer.assignment():
                    await consumer.position(partition)

    async def probe_kafka(self) -> None:
        if not self.connected:
            reason = f": {self.error}" if self.error else ""
            raise KafkaUnavailableError(f"not connected yet{reason}")
        if not await self.broker.ping(timeout=self.settings.readiness_timeout_seconds):
            raise KafkaUnavailableError(f"no answer from {self.settings.kafka_bootstrap_servers}")

    async def probe_relay(self) -> None:
        if self._relaying is not None and self._relaying.done():
            raise RuntimeError("the outbox relay stopped")
        stalled_for = self.relay.stalled_for() if self.relay is not None else 0.0
        if stalled_for > self.settings.outbox_relay_stalled_after_seconds:
            assert self.relay is not None
            raise RuntimeError(
                f"relay stalled: no round succeeded for {stalled_for:.0f}s"
                f" (last error: {(self.relay.last_error or '')[:300]})"
            )
