"""The identity service's deadline passes (K6: an RGC who never logged in lapses after 21 days)
run by two replicas at once: every lapse is decided and published once. On a platform of its
own: the test moves its clock three weeks on, twice.

Nothing is left to the replicas' timers. The test holds the identity service's outbox (a pass
commits its decisions and their events together, so a pass that decided waits there) and shows,
in PostgreSQL's locks, both replicas inside a pass at the same moment, each having written
accounts: the passes overlap. Without the rows' claim (``FOR UPDATE SKIP LOCKED``) the second
pass decides the first one's accounts again once the outbox is released: this test then fails
on the duplicates. Then one replica is SIGKILLed while seen mid-pass, and the other (or the
restarted one) decides what it had claimed, once.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from kairos_devstack.faults import (
    FaultRow,
    header,
    read_topic,
    table_held,
    until,
    validated_organisation,
)
from kairos_devstack.process_platform import ProcessPlatform
from kairos_devstack.story_clients import Operator, move_clock, wait_for
from kairos_schemas import identity as identity_events

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.infra]

RGCS = 40
PASS_EVERY = "0.2"
"""Seconds between two deadline passes of a replica."""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def deadline_platform() -> AsyncIterator[ProcessPlatform]:
    platform = ProcessPlatform.plan(
        Path(tempfile.mkdtemp(prefix="kairos-faults-deadlines-")),
        environment={"KAIROS_IDENTITY_DEADLINES_INTERVAL_SECONDS": PASS_EVERY},
    )
    try:
        await platform.start()
        yield platform
    finally:
        platform.stop()


async def _lapse_events(platform: ProcessPlatform, accounts: set[str]) -> dict[str, list[str]]:
    """Event ids of every record of RgcAccountLapsed about ``accounts``, by account."""
    found: dict[str, list[str]] = defaultdict(list)
    for record in await read_topic(platform.kafka.bootstrap_servers, identity_events.TOPIC):
        if header(record, "ce_type") != identity_events.RgcAccountLapsed.event_type:
            continue
        account = json.loads(record.value or b"{}").get("account_id")
        if account in accounts:
            found[account].append(header(record, "ce_id"))
    return found


async def _validated_rgcs(
    http: dict[str, httpx.AsyncClient], operator: Operator, seed: int
) -> list[str]:
    """``RGCS`` adhesions validated whose RGC never logs in: their accounts."""
    issued = await asyncio.gather(
        *(validated_organisation(http, operator, seed * 100 + n) for n in range(RGCS))
    )
    return [str(rgc["account_id"]) for _, rgc, _ in issued]


async def _decisions(platform: ProcessPlatform, accounts: set[str]) -> Counter[str]:
    """Once every account lapsed and no identity process has a transaction writing accounts
    (a pass under way): the RgcAccountLapsed events its outbox holds, by account."""
    async with platform.database("identity") as connection:

        async def settled() -> bool:
            lapsed = await connection.fetchval(
                "SELECT count(*) FROM account WHERE id = ANY($1::uuid[]) AND status = 'lapsed'",
                list(accounts),
            )
            writing = await connection.fetchval(
                """SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)
                   WHERE relation = 'account'::regclass AND mode = 'RowExclusiveLock'
                     AND application_name LIKE 'identity-%'"""
            )
            return bool(lapsed == len(accounts) and writing == 0)

        await until(settled, f"{len(accounts)} RGC accounts lapsed, no pass under way")
        values = await connection.fetch(
            """SELECT convert_from(value, 'UTF8')::jsonb ->> 'account_id' AS account FROM outbox
               WHERE header_values[array_position(header_names, 'ce_type')] = $1""",
            identity_events.RgcAccountLapsed.event_type.encode(),
        )
    return Counter(row["account"] for row in values if row["account"] in accounts)


async def _lapsed_once(platform: ProcessPlatform, accounts: set[str]) -> dict[str, list[str]]:
    """Once every account's lapse is on the topic: the event ids by account."""

    async def all_lapsed() -> bool:
        return len(await _lapse_events(platform, accounts)) == len(accounts)

    await until(all_lapsed, f"{len(accounts)} RGC lapses on the identity topic")
    return await _lapse_events(platform, accounts)


async def test_two_identity_replicas_one_killed_lapse_each_rgc_once(
    deadline_platform: ProcessPlatform, fault_row: FaultRow
) -> None:
    fault_row.fault = "two identity replicas running deadlines, one SIGKILLed"
    platform = deadline_platform
    seed = uuid.uuid4().int % 10**5
    async with platform.clients() as http:
        operator = Operator(http["identity"], platform.endpoints())
        await operator.bootstrap(f"{seed}")
        overlapping = set(await _validated_rgcs(http, operator, seed))
        second = platform.add_replica("identity")
        second.start()
        await second.wait_ready()
        await _overlapping_passes(platform, sorted(overlapping)[: RGCS // 2])
        decided = await _decisions(platform, overlapping)
        twice = {account: n for account, n in decided.items() if n > 1}
        assert not twice, f"the overlapping passes decided {len(twice)} lapses twice: {twice}"
        killed_mid_pass = set(await _validated_rgcs(http, operator, seed + 1))
    victim, killed = await _a_replica_killed_mid_pass(platform)
    accounts = overlapping | killed_mid_pass
    decided = await _decisions(platform, accounts)
    events = await _lapsed_once(platform, accounts)
    fault_row.recovery_s = time.monotonic() - killed
    distinct = {account: set(ids) for account, ids in events.items()}
    fault_row.events_in, fault_row.events_out = len(accounts), len(distinct)
    fault_row.duplicates = sum(n - 1 for n in decided.values())
    fault_row.lost = len(accounts) - len(distinct)
    fault_row.redelivered = sum(len(ids) for ids in events.values()) - sum(
        len(ids) for ids in distinct.values()
    )
    fault_row.notes = (
        f"2 x {RGCS} RGCs never logged in: both replicas seen mid-pass at once, then "
        f"{victim} killed mid-pass; recovery = from the kill until every lapse is on the topic"
    )
    assert fault_row.duplicates == 0, f"a lapse was decided twice: {decided}"
    assert all(len(ids) == 1 for ids in distinct.values()), events
    assert fault_row.lost == 0
    fault_row.outcome = "ok"


async def _overlapping_passes(platform: ProcessPlatform, held_by_the_test: list[str]) -> None:
    """Both replicas inside a deadline pass at the same moment, each having decided lapses:
    the test claims ``held_by_the_test`` itself first, so that the first pass may decide only
    the other accounts; once that pass is seen waiting for the (held) outbox, the test lets its
    accounts go, and the other replica's pass takes them."""
    async with platform.database("identity") as claim:
        held = claim.transaction()
        await held.start()
        try:
            await claim.execute(
                "SELECT id FROM account WHERE id = ANY($1::uuid[]) FOR UPDATE", held_by_the_test
            )
            async with table_held(platform, "identity", "outbox") as outbox:
                move_clock(platform.offset_file, timedelta(days=22))  # past every 21 days

                async def deciding() -> int:
                    return len(await outbox.waiting("account", on_any_lock=True))

                async def one() -> bool:
                    return await deciding() >= 1

                await until(one, "a replica's deadline pass having decided lapses")
                await held.commit()

                async def both() -> bool:
                    return await deciding() == 2

                await until(both, "both replicas inside a deadline pass at once")
        finally:
            if claim.is_in_transaction():
                await held.rollback()


async def _a_replica_killed_mid_pass(platform: ProcessPlatform) -> tuple[str, float]:
    """The clock moved past the new accounts' deadline; the replica seen deciding them
    (waiting for the held outbox) SIGKILLed, then restarted: its name and when it was killed."""
    async with table_held(platform, "identity", "outbox") as outbox:
        move_clock(platform.offset_file, timedelta(days=22))

        async def mid_pass() -> set[str] | None:
            return await outbox.waiting("account") or None

        deciding = await wait_for(mid_pass, "a replica's deadline pass having decided lapses")
        victim = platform.service("identity", int(sorted(deciding)[0].rsplit("-", 1)[1]))
        victim.kill()
    killed = time.monotonic()
    await asyncio.sleep(2)
    victim.start()
    await victim.wait_ready()
    return victim.name, killed
