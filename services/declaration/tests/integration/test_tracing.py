"""One trace follows a declaration across services: the declaration service's server span for
the POST, and the notification service's consumer span for the event it published on
kairos.declaration.v1 (outbox, relay, Kafka), child of that server span."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from kairos_devstack.platform import bearer, running_platform
from kairos_schemas import declaration as contracts

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{CALLER_TRACE}-b7ad6b7169203331-01"
SESSION = {"action_number": "84_AF_0000012345", "session_number": "84_SE_0000067890"}
ENTRIES_ROUTE = "/v1/organisations/{organisation_id}/entries"


async def test_a_declaration_is_one_trace_from_its_post_to_the_notification_consumer(
    new_database: Callable[[], Awaitable[str]], kafka_bootstrap_servers: str
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        async with running_platform(
            new_database, kafka_bootstrap_servers, with_declaration=True,
            with_notification=True, tracer_provider=provider,
        ) as platform:  # fmt: skip
            path, token = await _declarer_ready(platform, seed=791)
            assert platform.declaration_http is not None
            response = await platform.declaration_http.post(
                path,
                json={"session": SESSION, "trainee_id": "1234567A", "entered_on": "2026-02-02"},
                headers={**bearer(token), "Idempotency-Key": str(uuid.uuid4()),
                         "traceparent": TRACEPARENT},
            )  # fmt: skip
            assert response.status_code == 201, response.text

            async def probe() -> ReadableSpan | None:
                return next(iter(_notification_consumer_spans(exporter)), None)

            consumer = await platform.eventually(probe, timeout=120)
    finally:
        provider.shutdown()

    traced = [s for s in exporter.get_finished_spans() if _trace(s) == CALLER_TRACE]
    [server] = [s for s in traced if s.kind is SpanKind.SERVER]
    assert server.name == f"POST {ENTRIES_ROUTE}"
    assert server.attributes is not None
    assert server.attributes["http.response.status_code"] == 201
    assert consumer.parent is not None
    assert consumer.parent.span_id == server.context.span_id
    assert consumer.attributes is not None
    assert consumer.attributes["kairos.outcome"] == "applied"


def _trace(span: ReadableSpan) -> str:
    return format(span.context.trace_id, "032x")


def _notification_consumer_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    """Spans of the trace in which a notification consumer processed a declaration event."""
    found = []
    for span in exporter.get_finished_spans():
        attributes: dict[str, Any] = dict(span.attributes or {})
        if (
            span.kind is SpanKind.CONSUMER
            and _trace(span) == CALLER_TRACE
            and attributes.get("messaging.destination.name") == contracts.TOPIC
            and str(attributes.get("messaging.consumer.group.name")).startswith(
                "test-notification-"
            )
        ):
            found.append(span)
    return found


async def _declarer_ready(platform: Any, seed: int) -> tuple[str, str]:
    """An organisation, a habilitated user logged in and a session registered: the path to
    declare entries on, and the user's token."""
    organisation = await platform.organisation(seed=seed)
    _, token = await platform.active_holder(organisation, f"u{seed}@of.example")
    session = {**SESSION, "starts_on": "2026-02-02", "ends_on": "2026-06-30", "weekly_hours": 35}
    key = str(uuid.uuid4())

    async def registered() -> bool | None:
        response = await platform.declaration_http.post(
            f"/v1/organisations/{organisation.id}/sessions",
            json=session,
            headers={**bearer(token), "Idempotency-Key": key},
        )
        return True if response.status_code == 201 else None

    await platform.eventually(registered)
    return f"/v1/organisations/{organisation.id}/entries", token
