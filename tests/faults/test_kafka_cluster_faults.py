"""Brokers of a three-broker cluster (replication 3, min.insync.replicas 2) SIGKILLed and
restarted while declarations stream in, on a cluster of their own. With one broker down the
platform never stops accepting them; with two down Kafka refuses every write (and the
controller quorum is lost), yet declarations are still accepted: they wait in the outbox until
the brokers are back. Either way each reaches Kafka and its consumer once."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from kairos_devstack.faults import (
    DeclarationStream,
    FaultRow,
    World,
    declaration_tally,
    entries_applied,
    set_up_tenant,
    until,
)
from kairos_devstack.process_platform import ProcessPlatform

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.infra]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cluster_world() -> AsyncIterator[World]:
    platform = ProcessPlatform.plan(Path(tempfile.mkdtemp(prefix="kairos-faults-3b-")), brokers=3)
    try:
        await platform.start()
        async with platform.clients() as http:
            yield await set_up_tenant(platform, http)
    finally:
        platform.stop()


async def test_one_of_three_brokers_killed_mid_stream(
    cluster_world: World, fault_row: FaultRow
) -> None:
    fault_row.fault = "1 of 3 brokers SIGKILLed + restarted"
    world, platform = cluster_world, cluster_world.platform
    stream = DeclarationStream(world)
    running = asyncio.create_task(stream.run(60, per_second=4))

    async def some_accepted() -> bool:
        return len(stream.accepted) >= 15

    await until(some_accepted, "15 declarations accepted")
    assert not running.done(), "the stream ended before the fault: it hit no work"
    stream.fault_began()
    platform.kill_broker(2)
    killed = time.monotonic()
    await asyncio.sleep(10)
    during = sum(1 for at in stream.accepted_at if at >= killed)
    await platform.restart_broker(2)
    restarted = time.monotonic()
    stream.fault_repaired()
    await running

    async def all_applied() -> bool:
        return await entries_applied(world, stream.accepted) == len(stream.accepted)

    await until(all_applied, "every accepted entry applied by notification", timeout=150)
    fault_row.recovery_s = time.monotonic() - restarted  # until the backlog drained
    tally = await declaration_tally(world, stream)
    fault_row.count(tally)
    fault_row.notes = (
        f"{during} declarations accepted while the broker was down; {stream.retried} retried "
        f"requests, {len(stream.refused)} refused, {tally.unconfirmed} unconfirmed"
    )
    assert stream.refused == []
    assert during > 0, "the platform stopped accepting declarations with one broker down"
    assert (tally.lost, tally.duplicates, tally.unconfirmed) == (0, 0, 0)
    fault_row.outcome = "ok"


async def test_two_of_three_brokers_killed_mid_stream(
    cluster_world: World, fault_row: FaultRow
) -> None:
    fault_row.fault = "2 of 3 brokers SIGKILLed 15 s + restarted"
    world, platform = cluster_world, cluster_world.platform
    stream = DeclarationStream(world)
    running = asyncio.create_task(stream.run(80, per_second=4))

    async def some_accepted() -> bool:
        return len(stream.accepted) >= 15

    await until(some_accepted, "15 declarations accepted")
    assert not running.done(), "the stream ended before the fault: it hit no work"
    stream.fault_began()
    platform.kill_broker(1)
    platform.kill_broker(2)
    killed = time.monotonic()
    await asyncio.sleep(15)
    during = sum(1 for at in stream.accepted_at if at >= killed)
    async with platform.database("declaration") as connection:
        waiting = await connection.fetchval(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        )
    await asyncio.gather(platform.restart_broker(1), platform.restart_broker(2))
    restarted = time.monotonic()
    stream.fault_repaired()
    await running

    async def all_applied() -> bool:
        return await entries_applied(world, stream.accepted) == len(stream.accepted)

    await until(all_applied, "every accepted entry applied by notification", timeout=240)
    fault_row.recovery_s = time.monotonic() - restarted  # until the backlog drained
    tally = await declaration_tally(world, stream)
    fault_row.count(tally)
    fault_row.notes = (
        f"{during} declarations accepted while Kafka refused writes ({waiting} events waiting "
        "in the outbox); "
        f"{stream.retried} retried requests, {len(stream.refused)} refused, "
        f"{tally.unconfirmed} unconfirmed"
    )
    assert stream.refused == []
    assert during > 0, "declarations were refused while Kafka was down: the outbox should hold them"
    assert waiting >= during, "Kafka took writes with two brokers down: the fault did not happen"
    assert (tally.lost, tally.duplicates, tally.unconfirmed) == (0, 0, 0)
    fault_row.outcome = "ok"
