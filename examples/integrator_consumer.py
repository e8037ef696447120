"""An integrator's consumer of the declarations topic (SPEC §3), with nothing but aiokafka.

    python examples/integrator_consumer.py --bootstrap-servers 127.0.0.1:9092 --group my-erp

Each record is a CloudEvent in Kafka binary mode: the `ce_type` header names the event type
(its JSON Schema is `schemas/jsonschema/<type>.json`), the value is the event's JSON data, the
key is `<trainee>/<action>/<session>` (or `session/<action>/<session>`), so one trainee's
declarations in a session arrive in order. Offsets are committed only after a record was
handled: a crash replays it (at least once), so handle by `declaration_id` + `version`
(idempotently), and treat `fr.kairos.declaration.declaration-cancelled.v1` as the end of a
declaration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

TOPIC = "kairos.declaration.v1"
Handler = Callable[[str, dict[str, Any]], Awaitable[None]]


async def consume(
    bootstrap_servers: str, group_id: str, handle: Handler, *, stop_after: int | None = None
) -> int:
    """Hand every declaration event to `handle(event_type, data)`, committing after each;
    returns how many were handled (stops after `stop_after`, for tests and demos)."""
    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,  # commit only what was handled
        auto_offset_reset="earliest",  # a new integrator starts from the beginning
    )
    await consumer.start()
    handled = 0
    try:
        async for record in consumer:
            headers = {name: value.decode() for name, value in record.headers}
            await handle(headers["ce_type"], json.loads(record.value))
            await consumer.commit(
                {TopicPartition(record.topic, record.partition): record.offset + 1}
            )
            handled += 1
            if stop_after is not None and handled >= stop_after:
                break
    finally:
        await consumer.stop()
    return handled


async def _print(event_type: str, data: dict[str, Any]) -> None:
    who = data.get("trainee_id") or "session"
    print(f"{event_type} {data['declaration_id']} v{data['version']} {who}")  # noqa: T201 - a demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    parser.add_argument("--group", default="example-integrator")
    arguments = parser.parse_args()
    asyncio.run(consume(arguments.bootstrap_servers, arguments.group, _print))


if __name__ == "__main__":
    main()
