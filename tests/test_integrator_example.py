"""The README's integrator consumer (`examples/integrator_consumer.py`) receives a declaration
published the way the declaration service publishes it: type from `ce_type`, JSON data."""

from __future__ import annotations

import asyncio
import importlib.util
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from kairos_devstack.topics import create_platform_topics
from kairos_schemas import declaration as contracts
from kairos_schemas import to_cloudevent

EXAMPLE = Path(__file__).parents[1] / "examples" / "integrator_consumer.py"


def _example() -> Any:
    spec = importlib.util.spec_from_file_location("integrator_consumer", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_example_consumer_receives_a_published_declaration(
    kafka_bootstrap_servers: str,
) -> None:
    await create_platform_topics(kafka_bootstrap_servers)
    event = contracts.EntryDeclared(
        declaration_id=str(uuid.uuid4()), version=1, organisation_id=str(uuid.uuid4()),
        session=contracts.TrainingSession(action_number="84_AF_1", session_number="84_SE_1"),
        declared_by=str(uuid.uuid4()), declared_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        due_by=date(2026, 3, 5), late=False, trainee_id="1234567A", entered_on=date(2026, 3, 2),
    )  # fmt: skip
    record = to_cloudevent(event, source="/kairos/declaration").to_kafka()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            contracts.TOPIC, record.value, key=record.key, headers=list(record.headers)
        )
    finally:
        await producer.stop()

    seen: asyncio.Future[tuple[str, dict[str, Any]]] = asyncio.get_running_loop().create_future()

    async def handle(event_type: str, data: dict[str, Any]) -> None:
        if data.get("declaration_id") == event.declaration_id and not seen.done():
            seen.set_result((event_type, data))

    example = _example()
    consuming = asyncio.create_task(
        example.consume(kafka_bootstrap_servers, f"test-integrator-{uuid.uuid4()}", handle)
    )
    try:
        event_type, data = await asyncio.wait_for(seen, timeout=60)
    finally:
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
    assert event_type == contracts.EntryDeclared.event_type
    assert (data["trainee_id"], data["entered_on"], data["version"]) == (
        "1234567A",
        "2026-03-02",
        1,
    )
