"""Test support shared by the test suites: a test-only event and Kafka reading helpers."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from stdnum import luhn

from kairos_schemas import Event, EventRegistry
from kairos_shared.db import Connection
from kairos_shared.inbox import Delivery

TEST_EVENTS = EventRegistry()
"""Test-only event classes: kept out of the package registry and the committed schemas."""


class CounterIncremented(Event, registry=TEST_EVENTS):
    """Test-only event: a counter moved by one step; ``seq`` gives the order per counter."""

    event_type: ClassVar[str] = "fr.kairos.identity.test-counter-incremented.v1"
    topic: ClassVar[str] = "kairos.identity.v1"

    counter_id: str
    seq: int

    def partition_key(self) -> str:
        return self.counter_id


_READ_PATIENCE_SECONDS = 60.0

EFFECTS_TABLE = "CREATE TABLE effects (event_id text NOT NULL, counter_id text NOT NULL, seq int)"
"""Where :func:`record_effect` leaves one row per application of an event."""


async def record_effect(connection: Connection, event: Event, delivery: Delivery) -> None:
    """A consumer's effect that is not idempotent by itself: applied twice, two rows."""
    assert isinstance(event, CounterIncremented)
    await connection.execute(
        "INSERT INTO effects VALUES ($1, $2, $3)",
        delivery.cloudevent.id,
        event.counter_id,
        event.seq,
    )


def valid_siret(seed: int) -> str:
    """A valid, deterministic SIRET for tests: a Luhn-valid SIREN (never La Poste's), an
    establishment number, and Luhn over all 14 digits."""
    rng = random.Random(seed)  # noqa: S311 - deterministic test data, not a secret
    siren = "".join(rng.choice("123456789") for _ in range(8))
    siren += luhn.calc_check_digit(siren)
    body = siren + "".join(rng.choice("0123456789") for _ in range(4))
    return body + luhn.calc_check_digit(body)


def adhesion_request(seed: int, postal_code: str = "69002") -> dict[str, Any]:
    """The body of ``POST /v1/organisations``: an adhesion request whose SIRET, names and
    e-mails derive from ``seed``; ``postal_code`` places it in its zone (K4)."""
    return {
        "siret": valid_siret(seed), "nda": "84690000069", "legal_name": f"Organisme {seed}",
        "address": {"street": "1 place Bellecour", "postal_code": postal_code, "city": "Lyon"},
        "head": {"first_name": "Inès", "last_name": "Roux", "function": "Directrice",
                 "email": f"ines.roux.{seed}@of.example"},
        "rgc": {"first_name": "Paul", "last_name": f"Rgc{seed}", "email": f"rgc.{seed}@of.example"},
        "terms": {"version": "2017-09-15", "accepted_on": "2026-03-01"},
    }  # fmt: skip


def counter_events(counters: int, steps: int) -> list[CounterIncremented]:
    """``steps`` events for each of ``counters`` new counters, interleaved, in ``seq`` order."""
    ids = [f"counter-{uuid.uuid4().hex[:8]}" for _ in range(counters)]
    return [CounterIncremented(counter_id=c, seq=s) for s in range(steps) for c in ids]


async def read_records(
    bootstrap_servers: str, topic: str, *, at_least: int = 0, idle_timeout: float = 2.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` from the beginning (no group, nothing committed).

    Reads until ``at_least`` records arrived and then nothing more came for ``idle_timeout``.
    """
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers.split(","),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    records: list[Any] = []
    try:
        waited = 0.0
        while waited < _READ_PATIENCE_SECONDS:
            batch = await consumer.getmany(timeout_ms=int(idle_timeout * 1000))
            if not batch:
                if len(records) >= at_least:
                    return records
                waited += idle_timeout
                continue
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


@contextlib.asynccontextmanager
async def services_running(seconds: float = 60.0) -> AsyncIterator[contextlib.AsyncExitStack]:
    """An exit stack for in-process services whose shutdown must end within `seconds`: if it
    does not, every pending task's stack is printed (to see what hangs) and the test fails
    instead of hanging until the global timeout."""
    stack = contextlib.AsyncExitStack()
    async with stack:
        try:
            yield stack
        finally:
            closing = asyncio.ensure_future(stack.aclose())
            done, _ = await asyncio.wait({closing}, timeout=seconds)
            if not done:
                for task in asyncio.all_tasks():
                    if task is not asyncio.current_task():
                        task.print_stack(file=sys.stderr)
                closing.cancel()
                raise AssertionError(f"services did not stop within {seconds} s (stacks above)")
            closing.result()
