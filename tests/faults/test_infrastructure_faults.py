"""The infrastructure fails under the platform: the declaration service's PostgreSQL crashes,
the single Kafka broker restarts, the SMTP server is down for a minute. Declarations accepted
over HTTP all reach Kafka and their consumers once; every e-mail is delivered once."""

from __future__ import annotations

import asyncio
import time

import pytest

from kairos_devstack.faults import (
    DeclarationStream,
    FaultRow,
    World,
    declaration_tally,
    entries_applied,
    habilitate_burst,
    record_burst,
    settle_burst,
    until,
)

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.infra]

SMTP_DOWN_SECONDS = 60


async def _check_stream(
    world: World, stream: DeclarationStream, row: FaultRow, *, recovered_at: float
) -> None:
    """Every 201 once on the topic and once in the notification service's view; the row."""

    async def all_applied() -> bool:
        return await entries_applied(world, stream.accepted) == len(stream.accepted)

    drained = await until(all_applied, "every accepted entry applied by notification")
    tally = await declaration_tally(world, stream)
    row.count(tally)
    row.notes = (
        f"{stream.retried} retried requests, {len(stream.refused)} refused, "
        f"{tally.unconfirmed} unconfirmed; backlog drained "
        f"{time.monotonic() - recovered_at:.1f}s after the fault ({drained:.1f}s after the stream)"
    )
    assert stream.refused == []
    assert (tally.lost, tally.duplicates, tally.unconfirmed) == (0, 0, 0)


async def test_declaration_postgres_crashed_mid_stream(world: World, fault_row: FaultRow) -> None:
    fault_row.fault = "declaration's PostgreSQL crashed + restarted"
    platform = world.platform
    stream = DeclarationStream(world)
    running = asyncio.create_task(stream.run(80, per_second=4))

    async def some_accepted() -> bool:
        return len(stream.accepted) >= 20

    await until(some_accepted, "20 declarations accepted")
    assert not running.done(), "the stream ended before the fault: it hit no work"
    stream.fault_began()
    platform.crash_postgres(platform.declaration_postgres)
    await asyncio.sleep(5)
    await platform.restart_postgres(platform.declaration_postgres)
    restarted = time.monotonic()
    stream.fault_repaired()
    await running
    fault_row.recovery_s = stream.first_success_after(restarted)
    await _check_stream(world, stream, fault_row, recovered_at=restarted)
    assert fault_row.recovery_s is not None
    fault_row.outcome = "ok"


async def test_single_kafka_broker_restarted_mid_stream(world: World, fault_row: FaultRow) -> None:
    fault_row.fault = "1-broker Kafka SIGKILLed + restarted"
    platform = world.platform
    stream = DeclarationStream(world)
    running = asyncio.create_task(stream.run(80, per_second=4))

    async def some_accepted() -> bool:
        return len(stream.accepted) >= 20

    await until(some_accepted, "20 declarations accepted")
    assert not running.done(), "the stream ended before the fault: it hit no work"
    stream.fault_began()
    platform.kill_broker(1)
    await asyncio.sleep(5)
    await platform.restart_broker(1)
    restarted = time.monotonic()
    stream.fault_repaired()
    await running

    async def all_applied() -> bool:
        return await entries_applied(world, stream.accepted) == len(stream.accepted)

    await until(all_applied, "the backlog drained", timeout=150)
    fault_row.recovery_s = time.monotonic() - restarted  # until the backlog drained
    await _check_stream(world, stream, fault_row, recovered_at=restarted)
    fault_row.outcome = "ok"


async def test_smtp_server_down_for_a_minute(world: World, fault_row: FaultRow) -> None:
    fault_row.fault = f"SMTP server down {SMTP_DOWN_SECONDS}s"
    platform = world.platform
    await platform.smtp.collect()  # what it received so far: its store dies with it
    platform.smtp.stop()
    stopped = time.monotonic()
    burst: dict[str, str] = {}
    await habilitate_burst(world, 10, burst)
    await asyncio.sleep(max(0.0, SMTP_DOWN_SECONDS - (time.monotonic() - stopped)))
    async with platform.database("notification") as db:
        waiting = await db.fetchval(
            """SELECT count(*) FROM notification
               WHERE lower(recipient_email) = ANY($1::text[]) AND status <> 'sent'""",
            [email.lower() for email in burst.values()],
        )
    assert waiting > 0, "no e-mail of the burst was waiting for the SMTP server: no fault met"
    platform.smtp.start()
    restarted = time.monotonic()
    await platform.smtp.wait_ready()
    verdict, recovery = await settle_burst(world, burst, restarted)
    record_burst(fault_row, verdict, recovery)
    assert verdict.lost == 0, verdict.details
    assert verdict.duplicates == 0, verdict.details
    assert verdict.mail_redeliveries == 0, verdict.details
    assert recovery is not None
    fault_row.outcome = "ok"
