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
    table_held,
    until,
)
from kairos_devstack.story_clients import wait_for
from kairos_notification.config import NotificationSettings

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.infra]

BURST = 12
IN_FLIGHT = NotificationSettings.model_fields["delivery_concurrency"].default
"""E-mails a notification replica has in flight at once: what a SIGKILL can catch between
the SMTP server's acceptance and the commit of their delivery."""


@pytest.mark.parametrize("victim", ["identity", "habilitation", "notification"])
async def test_consumer_killed_mid_burst(world: World, fault_row: FaultRow, victim: str) -> None:
    """``victim`` SIGKILLed while one of its consumers is seen mid-event (its transaction open,
    waiting on its inbox that the test holds), with more of the burst still to come."""
    fault_row.fault = f"{victim} SIGKILLed mid-burst"
    service = world.platform.service(victim)
    burst: dict[str, str] = {}
    sending = asyncio.create_task(habilitate_burst(world, BURST, burst, per_second=4))

    async def midway() -> bool:
        if victim == "identity":
            return await accounts_opened(world, burst) >= BURST // 4
        if victim == "notification":
            return await mails_queued(world, burst) >= BURST // 4
        return True  # habilitation serves the burst: held from the start, killed once recorded

    await until(midway, f"{victim} a quarter of the way through the burst")
    async with table_held(world.platform, victim, "inbox") as inbox:
        if victim == "habilitation":
            await sending
        else:
            assert not sending.done(), f"the burst was all sent before {victim} was a quarter done"

        async def mid_event() -> bool:
            return bool(await inbox.waiting())

        await until(mid_event, f"a {victim} consumer mid-event on the burst", timeout=60)
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
    # sends those e-mails again, with the same Message-ID: at most the replica's e-mails in
    # flight (the held inbox keeps the burst's transactions open, so all of them may be caught).
    # Nothing else may be sent twice.
    assert verdict.mail_redeliveries <= (IN_FLIGHT if victim == "notification" else 0), (
        verdict.details
    )
    assert recovery is not None
    fault_row.outcome = "ok"


async def test_two_notification_replicas_one_killed_mid_rebalance(
    world: World, fault_row: FaultRow
) -> None:
    """Two notification replicas share the consumer groups; once the burst's first e-mail is
    queued, the replica seen mid-event (its transaction open, waiting on the inbox the test
    holds) is SIGKILLed with more of the burst to come: its partitions move to the other."""
    fault_row.fault = "notification x2, one SIGKILLed"
    platform = world.platform
    second = platform.add_replica("notification")
    try:
        second.start()  # joins the consumer groups: a rebalance
        await second.wait_ready()
        burst: dict[str, str] = {}
        sending = asyncio.create_task(habilitate_burst(world, BURST, burst, per_second=2))

        async def started() -> bool:
            return await mails_queued(world, burst) >= 1

        await until(started, "notification's first e-mail of the burst")
        async with table_held(platform, "notification", "inbox") as inbox:
            assert not sending.done(), "the burst was all sent before the kill: it hit no work"

            async def mid_event() -> set[str] | None:
                return await inbox.waiting() or None

            seen = await wait_for(mid_event, "a notification replica mid-event on the burst")
            victim = platform.service("notification", int(sorted(seen)[0].rsplit("-", 1)[1]))
            victim.kill()  # its partitions move after its session ends
        killed = time.monotonic()
        await sending
        verdict, recovery = await settle_burst(world, burst, killed)
        record_burst(fault_row, verdict, recovery)
        killed_note = f"{victim.name} killed; recovery counted from the kill"
        fault_row.notes = f"{fault_row.notes}; {killed_note}".lstrip("; ")
        assert verdict.lost == 0, verdict.details
        assert verdict.duplicates == 0, verdict.details
        assert verdict.mail_redeliveries <= IN_FLIGHT, verdict.details
        assert recovery is not None
        fault_row.outcome = "ok"
    finally:
        second.stop()
        platform.services["notification"].remove(second)
