"""The identity service's deadline passes (K6: an RGC who never logged in lapses after 21 days)
run by two replicas at once, one of them SIGKILLed while they work: every lapse is decided and
published, once. On a platform of its own: the test moves its clock three weeks on.

Whether the two replicas' passes overlap is up to their timers (every 0.2 s here): this test
still passed once with the rows' ``SKIP LOCKED`` claim removed. That claim is proven in
``services/identity/tests/integration/test_deadlines.py``, where two passes start together;
what this one adds is the kill and the restart, over real processes.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from kairos_devstack.faults import FaultRow, header, read_topic, until, validated_organisation
from kairos_devstack.process_platform import ProcessPlatform
from kairos_devstack.story_clients import Operator, move_clock
from kairos_schemas import identity as identity_events

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.infra]

RGCS = 40
PASS_EVERY = "0.2"
"""Seconds between two deadline passes of a replica: both are at work at once when it matters."""


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


async def test_two_identity_replicas_one_killed_lapse_each_rgc_once(
    deadline_platform: ProcessPlatform, fault_row: FaultRow
) -> None:
    fault_row.fault = "two identity replicas running deadlines, one SIGKILLed"
    platform = deadline_platform
    seed = uuid.uuid4().int % 10**5
    async with platform.clients() as http:
        operator = Operator(http["identity"], platform.endpoints())
        await operator.bootstrap(f"{seed}")
        issued = await asyncio.gather(
            *(validated_organisation(http, operator, seed * 100 + n) for n in range(RGCS))
        )
    accounts = {str(rgc["account_id"]) for _, rgc, _ in issued}
    second = platform.add_replica("identity")
    second.start()
    await second.wait_ready()
    first = platform.service("identity")

    move_clock(platform.offset_file, timedelta(days=22))  # past every RGC's 21 days
    moved = time.monotonic()
    await asyncio.sleep(0.3)  # both replicas at work on the lapses
    first.kill()
    await asyncio.sleep(2)
    first.start()
    await first.wait_ready()

    async def all_lapsed() -> bool:
        return len(await _lapse_events(platform, accounts)) == RGCS

    await until(all_lapsed, f"{RGCS} RGC lapses on the identity topic")
    fault_row.recovery_s = time.monotonic() - moved
    events = await _lapse_events(platform, accounts)
    async with platform.database("identity") as connection:
        lapsed = await connection.fetchval(
            "SELECT count(*) FROM account WHERE id = ANY($1::uuid[]) AND status = 'lapsed'",
            list(accounts),
        )
    distinct = {account: set(ids) for account, ids in events.items()}
    fault_row.events_in, fault_row.events_out = RGCS, len(distinct)
    fault_row.duplicates = sum(len(ids) - 1 for ids in distinct.values())
    fault_row.lost = RGCS - len(distinct)
    fault_row.redelivered = sum(len(ids) for ids in events.values()) - sum(
        len(ids) for ids in distinct.values()
    )
    fault_row.notes = (
        f"{RGCS} RGCs never logged in; the clock moved 22 days; {lapsed} accounts lapsed; "
        "recovery = from the move until every lapse is on the topic"
    )
    assert lapsed == RGCS
    assert fault_row.duplicates == 0, f"a lapse was decided twice: {events}"
    assert fault_row.lost == 0
    fault_row.outcome = "ok"
