"""Traces through a service app against the real PostgreSQL and Kafka: an HTTP request's span
continues the caller's ``traceparent``, the outbox row it writes carries the trace context, and
the consumer of the published event processes it in a child span of the same trace. With the
exporter ``none``, no span is made: the caller's context passes through unchanged."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
import structlog
from fastapi import APIRouter, FastAPI, Request
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from kairos_devstack.pytest_plugin import TopicFactory
from kairos_devstack.testing import EFFECTS_TABLE, TEST_EVENTS, CounterIncremented, record_effect
from kairos_shared import outbox
from kairos_shared.dead_letters import DeadLetterPublisher
from kairos_shared.inbox import IdempotentConsumer
from kairos_shared.kafka import make_broker
from kairos_shared.logging import configure_logging
from kairos_shared.messaging import Subscription
from kairos_shared.runtime import ServiceResources, create_service_app
from kairos_shared.settings import ServiceSettings
from kairos_shared.tracing import Tracing, build_tracer_provider, otlp_traces_url

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"


def _router(topic: str) -> APIRouter:
    router = APIRouter()

    @router.post("/counters/{counter_id}", status_code=201)
    async def increment(counter_id: str, request: Request) -> None:
        resources: ServiceResources = request.app.state.resources
        event = CounterIncremented(counter_id=counter_id, seq=0)
        async with resources.require_pool().acquire() as connection, connection.transaction():
            message = outbox.outbox_message(event, source="/kairos/tests", topic=topic)
            await outbox.append(connection, [message])

    return router


def _app(database_url: str, kafka: str, topic: str, migrations: Path) -> FastAPI:
    (migrations / "0001_effects.sql").write_text(EFFECTS_TABLE)
    settings = ServiceSettings(
        service_name="tracing-test", database_url=database_url, http_port=8000,
        kafka_bootstrap_servers=kafka, consumer_group_prefix=f"test-{uuid.uuid4().hex}",
    )  # fmt: skip
    assert settings.otel_traces_exporter == "none"  # the default

    def consumers(pool: asyncpg.Pool, dead_letters: DeadLetterPublisher) -> list[Subscription]:
        handlers = {CounterIncremented.event_type: record_effect}
        consumer = IdempotentConsumer("traced", pool, handlers, dead_letters, registry=TEST_EVENTS)
        return [Subscription(topic, consumer)]

    return create_service_app(
        settings, title="tracing test", migrations_dir=migrations,
        broker=make_broker(kafka, client_id="tracing-test"), routers=[_router(topic)],
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


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


async def _row_headers(pool: asyncpg.Pool) -> dict[str, bytes]:
    row = await pool.fetchrow("SELECT header_names, header_values FROM outbox")
    assert row is not None
    return dict(zip(row["header_names"], row["header_values"], strict=True))


async def _effects(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM effects"))


def _one(spans: Sequence[ReadableSpan], kind: SpanKind) -> ReadableSpan:
    [span] = [span for span in spans if span.kind is kind]
    return span


async def test_the_consumer_span_continues_the_trace_of_the_request_that_wrote_the_event(
    database_url: str,
    kafka_bootstrap_servers: str,
    kafka_topic: TopicFactory,
    tmp_path: Path,
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans
    topic = await kafka_topic(partitions=1)
    app = _app(database_url, kafka_bootstrap_servers, topic, tmp_path)
    resources: ServiceResources = app.state.resources
    resources.tracing.use(provider)
    async with _running(app) as client:
        response = await client.post("/counters/c-1", headers={"traceparent": TRACEPARENT})
        assert response.status_code == 201
        headers = await _row_headers(resources.require_pool())
        async with asyncio.timeout(60):
            while not any(s.kind is SpanKind.CONSUMER for s in exporter.get_finished_spans()):  # noqa: ASYNC110 - polling
                await asyncio.sleep(0.05)
        assert await _effects(resources.require_pool()) == 1

    finished = exporter.get_finished_spans()
    server, consumer = _one(finished, SpanKind.SERVER), _one(finished, SpanKind.CONSUMER)
    assert server.name == "POST /counters/{counter_id}"
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/counters/{counter_id}"
    assert server.attributes["http.response.status_code"] == 201
    assert server.parent is not None
    assert (format(server.context.trace_id, "032x"), format(server.parent.span_id, "016x")) == (
        CALLER_TRACE, CALLER_SPAN,
    )  # fmt: skip
    # The row carries the server span's context, next to the CloudEvents headers.
    server_span = format(server.context.span_id, "016x")
    assert headers["traceparent"] == f"00-{CALLER_TRACE}-{server_span}-01".encode()
    assert "ce_id" in headers
    # The consumer span: same trace, child of the span that wrote the event.
    assert consumer.name == f"process {topic}"
    assert consumer.context.trace_id == server.context.trace_id
    assert consumer.parent is not None
    assert consumer.parent.span_id == server.context.span_id
    assert consumer.attributes is not None
    assert consumer.attributes["messaging.destination.name"] == topic
    assert consumer.attributes["kairos.outcome"] == "applied"
    assert consumer.attributes["messaging.message.id"] == headers["ce_id"].decode()


async def test_with_no_exporter_no_span_is_made_and_the_callers_context_passes_through(
    database_url: str, kafka_bootstrap_servers: str, kafka_topic: TopicFactory, tmp_path: Path
) -> None:
    topic = await kafka_topic(partitions=1)
    app = _app(database_url, kafka_bootstrap_servers, topic, tmp_path)
    resources: ServiceResources = app.state.resources
    async with _running(app) as client:
        assert not resources.tracing.enabled
        response = await client.post("/counters/c-1", headers={"traceparent": TRACEPARENT})
        assert response.status_code == 201
        # A recorded span would have put its own span id there.
        assert (await _row_headers(resources.require_pool()))["traceparent"] == TRACEPARENT.encode()
        await resources.require_pool().execute("DELETE FROM outbox")
        assert (await client.post("/counters/c-2")).status_code == 201
        assert "traceparent" not in await _row_headers(resources.require_pool())


def test_the_exporter_is_chosen_by_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAIROS_OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("KAIROS_OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    settings = ServiceSettings(service_name="x", database_url="postgresql://x/y", http_port=1)
    assert settings.otel_traces_exporter == "otlp"
    assert (
        otlp_traces_url(settings.otel_exporter_otlp_endpoint) == "http://collector:4318/v1/traces"
    )
    assert otlp_traces_url("http://collector:4318/v1/traces/") == "http://collector:4318/v1/traces"
    monkeypatch.setenv("KAIROS_OTEL_TRACES_EXPORTER", "jaeger")
    with pytest.raises(ValidationError, match=r"otel_traces_exporter|KAIROS_OTEL_TRACES_EXPORTER"):
        ServiceSettings(service_name="x", database_url="postgresql://x/y", http_port=1)
    assert build_tracer_provider("x", "none") is None
    for exporter in ("console", "otlp"):
        provider = build_tracer_provider("x", exporter, otlp_endpoint="http://127.0.0.1:4318")
        assert isinstance(provider, TracerProvider)
        provider.shutdown()


def test_log_lines_carry_the_trace_and_span_ids_of_the_active_span(
    capsys: pytest.CaptureFixture[str], spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, _ = spans
    tracing = Tracing()
    tracing.use(provider)
    configure_logging("tracing-test", fmt="json")
    try:
        log = structlog.get_logger("kairos.test")
        log.info("outside")
        with tracing.tracer.start_as_current_span("work") as span:
            log.info("inside")
            logging.getLogger("aiokafka").warning("library line")
        outside, inside, library = (
            json.loads(line) for line in capsys.readouterr().err.splitlines() if line
        )
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    assert "trace_id" not in outside
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert (inside["trace_id"], library["trace_id"]) == (trace_id, trace_id)
    assert inside["span_id"] == format(span.get_span_context().span_id, "016x")
