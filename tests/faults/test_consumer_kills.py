"""Consumers SIGKILLed while a burst of events flows through them (each habilitation: identity
opens an account, habilitation activates it, declaration learns it, notification mails the
person), and two notification replicas with one killed in the middle of a rebalance."""

from __future__ import annotations

import asyncio
import time

import pytest

from kairos_devstack.faults import (
    FaultRow,
    World,
    accounts_opened,
    habilitate_burst,
    mails_queued,
    record_burst,
    settle_burst,
    until,
)

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.infra]

BURST = 12


@pytest.mark.parametrize("victim", ["identity", "habilitation", "notification"])
async def test_consumer_killed_mid_burst(world: World, fault_row: FaultRow, victim: str) -> None:
    fault_row.fault = f"{victim} SIGKILLed mid-burst"
    service = world.platform.service(victim)
    burst: dict[str, str] = {}
    sending = asyncio.create_task(habilitate_burst(world, BURST, burst))

    async def midway() -> bool:
        if victim == "identity":
            return await accounts_opened(world, burst) >= BURST // 4
        if victim == "notification":
            return await mails_queued(world, burst) >= BURST // 4
        return sending.done()  # habilitation serves the burst: killed once it was recorded

    await until(midway, f"{victim} half-way through the burst")
    service.kill()
    await asyncio.sleep(2)
    service.start()
    restarted = time.monotonic()
    await service.wait_ready()
    await sending
    verdict, recovery = await settle_burst(world, burst, restarted)
    record_burst(fault_row, verdict, recovery)
    assert verdict.lost == 0, verdict.details
    assert verdict.duplicates == 0, verdict.details
    # What delivery.py documents: a crash between the SMTP server's acceptance and the commit
    # sends that one e-mail again, with the same Message-ID. Nothing else may be sent twice.
    assert verdict.mail_redeliveries <= (1 if victim == "notification" else 0), verdict.details
    assert recovery is not None
    fault_row.outcome = "ok"


async def test_two_notification_replicas_one_killed_mid_rebalance(
    world: World, fault_row: FaultRow
) -> None:
    fault_row.fault = "notification x2, one SIGKILLed"
    platform = world.platform
    second = platform.add_replica("notification")
    try:
        second.start()  # joins the consumer groups: a rebalance
        burst: dict[str, str] = {}
        sending = asyncio.create_task(habilitate_burst(world, BURST, burst))
        await second.wait_ready()

        async def started() -> bool:
            return await mails_queued(world, burst) >= 1

        await until(started, "notification's first e-mail of the burst")
        platform.service("notification").kill()  # its partitions move after its session ends
        killed = time.monotonic()
        await sending
        verdict, recovery = await settle_burst(world, burst, killed)
        record_burst(fault_row, verdict, recovery)
        fault_row.notes = (fault_row.notes + "; recovery counted from the kill").lstrip("; ")
        assert verdict.lost == 0, verdict.details
        assert verdict.duplicates == 0, verdict.details
        assert verdict.mail_redeliveries <= 1, verdict.details
        assert recovery is not None
        fault_row.outcome = "ok"
    finally:
        second.stop()
        platform.services["notification"].remove(second)
