"""Each service SIGKILLed mid-stream and restarted: nothing accepted is lost, nothing applied
twice, and the platform heals by itself."""

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
    table_held,
    until,
)

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.infra]


async def test_declaration_service_killed_mid_stream(world: World, fault_row: FaultRow) -> None:
    service = world.platform.service("declaration")
    stream = DeclarationStream(world)
    running = asyncio.create_task(stream.run(80, per_second=4))

    async def some_accepted() -> bool:
        return len(stream.accepted) >= 20

    await until(some_accepted, "20 declarations accepted")
    assert not running.done(), "the stream ended before the fault: it hit no work"
    stream.fault_began()
    service.kill()
    await asyncio.sleep(2)
    service.start()
    restarted = time.monotonic()
    await service.wait_ready()
    stream.fault_repaired()
    await running

    async def all_applied() -> bool:
        return await entries_applied(world, stream.accepted) == len(stream.accepted)

    drained = await until(all_applied, "every accepted entry applied by notification")
    tally = await declaration_tally(world, stream)
    applied = await entries_applied(world, stream.accepted)
    fault_row.count(tally)
    fault_row.recovery_s = stream.first_success_after(restarted)
    fault_row.notes = (
        f"{stream.retried} retried requests, {len(stream.refused)} refused, "
        f"{tally.unconfirmed} unconfirmed on the topic, drained {drained:.1f}s after the stream"
    )
    assert stream.refused == []
    assert stream.retried > 0, "no request met the dead service: the kill hit no work"
    assert (tally.lost, tally.duplicates, tally.unconfirmed) == (0, 0, 0)
    assert applied == len(stream.accepted)
    assert fault_row.recovery_s is not None
    fault_row.outcome = "ok"


BATCHES, ROWS = 4, 150


async def test_declaration_service_killed_mid_attendance_batch(
    world: World, fault_row: FaultRow
) -> None:
    """Monthly attendance in batches of 150 rows (all or nothing); the service is SIGKILLed
    while the second batch's transaction is open, its rows written and its events not yet
    (seen in the service's PostgreSQL). Each batch is retried under its key: every row ends up
    declared exactly once."""
    service = world.platform.service("declaration")
    stream = DeclarationStream(world)
    await stream.run(BATCHES * ROWS, per_second=60, concurrency=8)  # the entries first
    assert stream.refused == []
    trainees = sorted(stream.trainees)
    batches = [trainees[i::BATCHES] for i in range(BATCHES)]
    await stream.declare_attendance(batches[0], attended_hours=3.5)
    # The outbox held (as a stalled disk would): the batch's transaction, once it has written
    # its rows, waits for it. Seen waiting there, the service is killed mid-transaction.
    async with table_held(world.platform, "declaration", "outbox") as outbox:
        in_flight = asyncio.create_task(stream.declare_attendance(batches[1], attended_hours=3.5))

        async def batch_mid_transaction() -> bool:
            return bool(await outbox.waiting("declaration"))

        await until(batch_mid_transaction, "the batch's transaction open, its rows written")
        assert not in_flight.done(), "the batch was answered while its transaction was open"
        stream.fault_began()
        service.kill()
    await asyncio.sleep(2)
    service.start()
    restarted = time.monotonic()
    await service.wait_ready()
    stream.fault_repaired()
    await in_flight
    for batch in batches[2:]:
        await stream.declare_attendance(batch, attended_hours=3.5)

    async def all_on_the_topic() -> bool:
        return (await declaration_tally(world, stream)).lost == 0

    drained = await until(all_on_the_topic, "every accepted row on the integrators' topic")
    tally = await declaration_tally(world, stream)
    fault_row.count(tally)
    fault_row.recovery_s = stream.first_success_after(restarted)
    fault_row.notes = (
        f"{BATCHES} batches of {ROWS} rows; {stream.retried} retried requests, "
        f"{len(stream.refused)} refused, {tally.unconfirmed} unconfirmed on the topic, "
        f"all on it {drained:.1f}s after the last batch"
    )
    assert stream.refused == []
    assert stream.retried > 0, "the kill did not interrupt the batch: the fault did not happen"
    assert len(stream.accepted) == 2 * BATCHES * ROWS  # the entries and their attendance
    assert (tally.lost, tally.duplicates, tally.unconfirmed) == (0, 0, 0)
    assert fault_row.recovery_s is not None
    fault_row.outcome = "ok"
