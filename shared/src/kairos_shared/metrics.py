"""Prometheus metrics of one service app, served at ``GET /metrics`` (text exposition format).

Each app has its own :class:`ServiceMetrics` and ``CollectorRegistry`` (several services share a
process in tests); a ``target_info{service=…}`` sample names the service. What it counts:

- ``kairos_http_requests_total{method,route,status}`` and
  ``kairos_http_request_duration_seconds{method,route}`` (:class:`MetricsMiddleware`; the route
  is its template, ``/v1/organisations/{organisation_id}``, never the raw path);
- ``kairos_events_consumed_total{topic,event_type,outcome}`` (outcome: an
  :class:`~kairos_shared.inbox.Outcome` value) and ``kairos_event_handling_duration_seconds``;
- ``kairos_outbox_events_published_total{topic}`` and ``kairos_outbox_events_parked_total{topic}``
  (the outbox relay; parked: refused by Kafka for size or content, see :mod:`kairos_shared.relay`),
  ``kairos_dead_letters_published_total{topic}`` (``topic``: the record's original topic);
- computed when scraped, absent when their source does not answer in time:
  ``kairos_outbox_backlog_events``, ``kairos_outbox_oldest_unpublished_age_seconds`` (one SQL
  query) and ``kairos_consumer_lag_records{group,topic,partition}`` (end offset - committed).

A service adds its own metrics to the same registry (:meth:`ServiceMetrics.counter`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kairos_shared.tracing import http_method, route_template

log = structlog.get_logger(__name__)

ScrapeSource = Callable[[], Awaitable[Iterable[Metric]]]
"""Computes metric families when ``/metrics`` is scraped (raises or times out: left out)."""

UNMATCHED_ROUTE = "unmatched"
OTHER_EVENT_TYPE = "other"
_SERVER_ERROR = 500


class _ScrapedCollector(Collector):
    """Yields the families the current scrape computed (set just before rendering)."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterable[Metric]:
        return list(self.families)

    def describe(self) -> Iterable[Metric]:
        return []  # computed per scrape: nothing to check for name clashes up front


class ServiceMetrics:
    """The registry of one service app and the metrics the shared infrastructure records."""

    def __init__(self, service: str, *, scrape_timeout: float = 2.0) -> None:
        self.service = service
        self.scrape_timeout = scrape_timeout
        self.registry = CollectorRegistry(target_info={"service": service})
        self._sources: list[tuple[str, ScrapeSource]] = []
        self._scraped = _ScrapedCollector()
        self.registry.register(self._scraped)
        self.http_requests = self.counter(
            "kairos_http_requests", "HTTP requests served.", ("method", "route", "status")
        )
        self.http_duration = Histogram(
            "kairos_http_request_duration_seconds", "Time to serve an HTTP request.",
            ("method", "route"), registry=self.registry,
        )  # fmt: skip
        self.events_consumed = self.counter(
            "kairos_events_consumed", "Kafka records consumed, by what became of them.",
            ("topic", "event_type", "outcome"),
        )  # fmt: skip
        self.event_handling = Histogram(
            "kairos_event_handling_duration_seconds",
            "Time to process a consumed record (inbox, handler, retries, dead-lettering).",
            ("topic", "event_type"), registry=self.registry,
        )  # fmt: skip
        self.events_published = self.counter(
            "kairos_outbox_events_published", "Outbox events the relay published.", ("topic",)
        )
        self.events_parked = self.counter(
            "kairos_outbox_events_parked",
            "Outbox events Kafka refused for their size or content, moved to outbox_parked.",
            ("topic",),
        )
        self.dead_letters = self.counter(
            "kairos_dead_letters_published", "Records parked on their dead-letter topic.",
            ("topic",),
        )  # fmt: skip

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        """A counter in this app's registry (exposed as ``<name>_total``)."""
        return Counter(name, documentation, labels, registry=self.registry)

    def add_scrape_source(self, name: str, source: ScrapeSource) -> None:
        self._sources.append((name, source))

    async def render(self) -> bytes:
        """The exposition text, scrape-time metrics computed first (concurrently, bounded)."""
        computed = await asyncio.gather(*(self._compute(name, src) for name, src in self._sources))
        # No await between these two lines: a concurrent scrape cannot swap the families.
        self._scraped.families = [family for families in computed for family in families]
        return generate_latest(self.registry)

    async def _compute(self, name: str, source: ScrapeSource) -> list[Metric]:
        try:
            async with asyncio.timeout(self.scrape_timeout):
                return list(await source())
        except Exception as error:  # noqa: BLE001 - a source down leaves its metrics out, no more
            log.debug("metrics source unavailable", source=name, error=repr(error))
            return []


def metrics_router(metrics: ServiceMetrics) -> APIRouter:
    router = APIRouter(tags=["observability"])

    @router.get("/metrics", include_in_schema=False)
    async def expose() -> Response:
        return Response(await metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router


class MetricsMiddleware:
    """Pure ASGI middleware: counts and times each HTTP request by its route template."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: list[int] = []

        async def send_observing(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_observing)
        finally:
            route = route_template(scope) or UNMATCHED_ROUTE
            method = http_method(scope)
            self.metrics.http_requests.labels(
                method, route, str(status[0] if status else _SERVER_ERROR)
            ).inc()
            self.metrics.http_duration.labels(method, route).observe(time.perf_counter() - started)


_BACKLOG = """
SELECT count(*) AS events,
       coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8 AS oldest
FROM outbox WHERE published_at IS NULL
"""


def outbox_backlog(pool: Callable[[], asyncpg.Pool | None], timeout: float) -> ScrapeSource:
    """Unpublished outbox rows and the age of the oldest, from one query on the app's pool."""

    async def compute() -> Iterable[Metric]:
        current = pool()
        if current is None:
            return []
        async with current.acquire(timeout=timeout) as connection:
            row = await connection.fetchrow(_BACKLOG, timeout=timeout)
        assert row is not None
        events = GaugeMetricFamily(
            "kairos_outbox_backlog_events", "Outbox events not published yet."
        )
        events.add_metric([], float(row["events"]))
        oldest = GaugeMetricFamily(
            "kairos_outbox_oldest_unpublished_age_seconds",
            "Age of the oldest outbox event not published yet (0 when none).",
        )
        oldest.add_metric([], float(row["oldest"]))
        return [events, oldest]

    return compute


KafkaConsumers = Callable[[], Iterable[tuple[str, AIOKafkaConsumer]]]
"""The running consumers, each with its consumer group."""


def consumer_lag(consumers: KafkaConsumers) -> ScrapeSource:
    """Per assigned partition: the end offset minus the group's committed offset (the beginning
    offset when the group committed nothing yet: consumers start from the earliest)."""

    async def compute() -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "kairos_consumer_lag_records",
            "Records of a partition the consumer group has not committed yet.",
            labels=("group", "topic", "partition"),
        )
        lags = await asyncio.gather(
            *(_partition_lags(group, consumer) for group, consumer in consumers())
        )
        for group, partitions in lags:
            for partition, lag in partitions:
                family.add_metric([group, partition.topic, str(partition.partition)], lag)
        return [family]

    return compute


async def _partition_lags(
    group: str, consumer: AIOKafkaConsumer
) -> tuple[str, list[tuple[TopicPartition, float]]]:
    assigned: list[TopicPartition] = sorted(consumer.assignment())
    if not assigned:
        return group, []
    ends: dict[TopicPartition, int] = await consumer.end_offsets(assigned)
    committed: list[Any] = await asyncio.gather(*(consumer.committed(tp) for tp in assigned))
    starts: dict[TopicPartition, int] = {}
    if any(offset is None for offset in committed):
        starts = await consumer.beginning_offsets(assigned)
    return group, [
        (tp, float(max(ends[tp] - (starts[tp] if offset is None else offset), 0)))
        for tp, offset in zip(assigned, committed, strict=True)
    ]
