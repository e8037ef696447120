"""``GET /metrics`` of a service app against the real PostgreSQL and Kafka: HTTP requests by
route template, the outbox backlog, events published, consumed and dead-lettered, consumer lag;
a database that does not answer leaves its gauges out, and the scrape still answers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import APIRouter, FastAPI, Request
from prometheus_client.parser import text_string_to_metric_families

from kairos_devstack.processes import free_port
from kairos_devstack.pytest_plugin import TopicFactory
from kairos_devstack.testing import EFFECTS_TABLE, TEST_EVENTS, CounterIncremented, record_effect
from kairos_shared import outbox
from kairos_shared.dead_letters import DeadLetterPublisher
from kairos_shared.inbox import IdempotentConsumer
from kairos_shared.kafka import make_broker
from kairos_shared.messaging import Subscription
from kairos_shared.metrics import ServiceMetrics, consumer_lag, outbox_backlog
from kairos_shared.runtime import ServiceResources, create_service_app
from kairos_shared.settings import ServiceSettings

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
CONSUMER = "metrics-test"


def _router(topic: str) -> APIRouter:
    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @router.post("/counters/{counter_id}", status_code=201)
    async def increment(counter_id: str, request: Request) -> None:
        resources: ServiceResources = request.app.state.resources
        event = CounterIncremented(counter_id=counter_id, seq=0)
        async with resources.require_pool().acquire() as connection, connection.transaction():
            message = outbox.outbox_message(event, source="/kairos/tests", topic=topic)
            await outbox.append(connection, [message])

    return router


def _app(database_url: str, kafka: str, topic: str, migrations: Path, *, relay: bool) -> FastAPI:
    (migrations / "0001_effects.sql").write_text(EFFECTS_TABLE)
    settings = ServiceSettings(
        service_name="metrics-test", database_url=database_url, http_port=8000,
        kafka_bootstrap_servers=kafka, outbox_relay_enabled=relay,
        consumer_group_prefix=f"test-{uuid.uuid4().hex}",
    )  # fmt: skip

    def consumers(pool: asyncpg.Pool, dead_letters: DeadLetterPublisher) -> list[Subscription]:
        handlers = {CounterIncremented.event_type: record_effect}
        consumer = IdempotentConsumer(CONSUMER, pool, handlers, dead_letters, registry=TEST_EVENTS)
        return [Subscription(topic, consumer)]

    return create_service_app(
        settings, title="metrics test", migrations_dir=migrations,
        broker=make_broker(kafka, client_id="metrics-test"), routers=[_router(topic)],
        consumers=consumers,
    )  # fmt: skip


@asynccontextmanager
async def _running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://service") as client,
    ):
        yield client


def _parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return _parse(response.text)


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def _eventually(
    probe: Callable[[], Awaitable[Samples]], check: Callable[[Samples], bool], timeout: float = 60
) -> Samples:
    async with asyncio.timeout(timeout):
        while not check(samples := await probe()):  # noqa: ASYNC110 - polling the scrape
            await asyncio.sleep(0.1)
    return samples


async def test_http_requests_by_route_template_and_the_outbox_backlog(
    database_url: str, kafka_bootstrap_servers: str, kafka_topic: TopicFactory, tmp_path: Path
) -> None:
    topic = await kafka_topic(partitions=1)  # nothing is published: the relay is off
    app = _app(database_url, kafka_bootstrap_servers, topic, tmp_path, relay=False)
    async with _running(app) as client:
        for thing in ("a", "b"):
            assert (await client.get(f"/things/{thing}")).status_code == 200
        assert (await client.get("/nowhere/42")).status_code == 404
        for counter in ("c-1", "c-2", "c-3"):
            assert (await client.post(f"/counters/{counter}")).status_code == 201
        await asyncio.sleep(0.05)  # the oldest row ages
        samples = await _scrape(client)

        route = {"method": "GET", "route": "/things/{thing_id}"}
        assert _value(samples, "kairos_http_requests_total", **route, status="200") == 2
        assert _value(samples, "kairos_http_request_duration_seconds_count", **route) == 2
        posted = {"method": "POST", "route": "/counters/{counter_id}", "status": "201"}
        assert _value(samples, "kairos_http_requests_total", **posted) == 3
        unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
        assert _value(samples, "kairos_http_requests_total", **unmatched) == 1
        routes = {dict(labels).get("route") for _, labels in samples}
        assert not {"/things/a", "/things/b", "/nowhere/42"} & routes, "no raw path in labels"
        assert _value(samples, "target_info", service="metrics-test") == 1

        assert _value(samples, "kairos_outbox_backlog_events") == 3
        oldest = _value(samples, "kairos_outbox_oldest_unpublished_age_seconds")
        assert oldest is not None
        assert 0 < oldest < 60


async def test_a_database_that_does_not_answer_leaves_the_backlog_out(
    database_url: str, kafka_bootstrap_servers: str, kafka_topic: TopicFactory, tmp_path: Path
) -> None:
    topic = await kafka_topic(partitions=1)
    app = _app(database_url, kafka_bootstrap_servers, topic, tmp_path, relay=False)
    nowhere = await asyncpg.create_pool(
        f"postgresql://nobody@127.0.0.1:{free_port()}/x", min_size=0
    )
    resources: ServiceResources = app.state.resources
    try:
        async with _running(app) as client:
            assert _value(await _scrape(client), "kairos_outbox_backlog_events") == 0
            running, resources.pool = resources.pool, nowhere
            try:
                samples = await _scrape(client)  # still 200
            finally:
                resources.pool = running
            assert _value(samples, "kairos_outbox_backlog_events") is None
            assert _value(samples, "kairos_http_requests_total", method="GET", route="/metrics",
                          status="200") == 1  # fmt: skip
    finally:
        await nowhere.close()


async def test_published_consumed_and_dead_lettered_events_and_the_lag(
    database_url: str, kafka_bootstrap_servers: str, kafka_topic: TopicFactory, tmp_path: Path
) -> None:
    topic = await kafka_topic(partitions=2, dead_letters=True)
    app = _app(database_url, kafka_bootstrap_servers, topic, tmp_path, relay=True)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await producer.start()
    try:
        async with _running(app) as client:
            for counter in ("c-1", "c-2", "c-3"):
                assert (await client.post(f"/counters/{counter}")).status_code == 201
            await producer.send_and_wait(topic, b"not a CloudEvent", key=b"poison")
            applied = {"topic": topic, "event_type": CounterIncremented.event_type}
            poison = {"topic": topic, "event_type": "other", "outcome": "dead_lettered"}

            def settled(samples: Samples) -> bool:
                lags = [
                    v for (name, _), v in samples.items() if name == "kairos_consumer_lag_records"
                ]
                return (
                    _value(samples, "kairos_events_consumed_total", **applied, outcome="applied")
                    == 3
                    and _value(samples, "kairos_events_consumed_total", **poison) == 1
                    and len(lags) == 2
                    and not any(lags)
                )

            samples = await _eventually(lambda: _scrape(client), settled)
    finally:
        await producer.stop()
    assert _value(samples, "kairos_outbox_events_published_total", topic=topic) == 3
    assert _value(samples, "kairos_dead_letters_published_total", topic=topic) == 1
    assert _value(samples, "kairos_event_handling_duration_seconds_count", **applied) == 3
    assert _value(samples, "kairos_outbox_backlog_events") == 0
    assert _value(samples, "kairos_outbox_oldest_unpublished_age_seconds") == 0
    group = {"group": f"{app.state.resources.messaging.settings.consumer_group_prefix}-{CONSUMER}"}
    for partition in ("0", "1"):
        lag = _value(
            samples, "kairos_consumer_lag_records", **group, topic=topic, partition=partition
        )
        assert lag == 0


async def test_lag_is_the_end_offset_minus_what_the_group_committed(
    kafka_bootstrap_servers: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic(partitions=1)
    group = f"group-{uuid.uuid4().hex}"
    partition = TopicPartition(topic, 0)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap_servers, group_id=group,
        enable_auto_commit=False, auto_offset_reset="earliest",
    )  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await asyncio.gather(consumer.start(), producer.start())
    metrics = ServiceMetrics("lag-test")
    metrics.add_scrape_source("lag", consumer_lag(lambda: [(group, consumer)]))
    try:
        async with asyncio.timeout(30):
            while not consumer.assignment():
                await consumer.getmany(timeout_ms=100)
        for seq in range(5):
            await producer.send_and_wait(topic, str(seq).encode(), partition=0)
        lag = {"group": group, "topic": topic, "partition": "0"}
        before = _parse((await metrics.render()).decode())
        assert _value(before, "kairos_consumer_lag_records", **lag) == 5  # nothing committed
        await consumer.commit({partition: 2})
        after = _parse((await metrics.render()).decode())
        assert _value(after, "kairos_consumer_lag_records", **lag) == 3
    finally:
        await asyncio.gather(consumer.stop(), producer.stop())


async def test_a_source_that_hangs_is_left_out_within_the_scrape_timeout() -> None:
    metrics = ServiceMetrics("timeout-test", scrape_timeout=0.05)

    async def never() -> Iterable[Any]:
        await asyncio.Event().wait()
        return []

    metrics.add_scrape_source("hangs", never)
    metrics.add_scrape_source("backlog", outbox_backlog(lambda: None, 1.0))  # no pool: absent
    async with asyncio.timeout(5):
        text = (await metrics.render()).decode()
    assert "kairos_outbox_backlog_events" not in text
    assert 'target_info{service="timeout-test"} 1.0' in text
