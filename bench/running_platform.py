"""The whole platform for a benchmark: every service a real process on a durable PostgreSQL
(fsync on) and a real Kafka, started for the run and stopped after it, by pid; and the people
a benchmark acts as (OFs, their RGC, habilitated trainers), prepared over the public HTTP APIs.

Settings are production's except where a benchmark would only measure its own set-up: argon2 is
cheap (8 MiB, 1 pass) so that preparing hundreds of people takes seconds, and logs are JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx

from kairos_devstack.process_platform import ProcessPlatform, ServiceProcess
from kairos_devstack.soak import OF, Person, Soak
from kairos_devstack.story_clients import declarer_let_in
from kairos_shared.clock import OffsetClock


@contextlib.asynccontextmanager
async def running_platform(
    environment: dict[str, str] | None = None,
) -> AsyncIterator[ProcessPlatform]:
    root = Path(tempfile.mkdtemp(prefix="kairos-bench-"))
    platform = ProcessPlatform.plan(root, durable=True, environment=environment)
    try:
        await platform.start()
        yield platform
    finally:
        platform.stop()
        shutil.rmtree(root, ignore_errors=True)


async def add_replica(platform: ProcessPlatform, service: str) -> ServiceProcess:
    """A second process of ``service``: same database, same consumer groups (a rebalance)."""
    replica = platform.add_replica(service)
    replica.start()
    await replica.wait_ready()
    return replica


@dataclass
class Tenants:
    """OFs with their RGC logged in and habilitated people who may declare."""

    soak: Soak
    organisations: list[OF]

    @property
    def people(self) -> list[tuple[OF, Person]]:
        return [(of, person) for of in self.organisations for person in of.people]


@contextlib.asynccontextmanager
async def tenants(
    platform: ProcessPlatform, *, organisations: int, people: int, concurrency: int = 8
) -> AsyncIterator[Tenants]:
    """``organisations`` OFs of ``people`` habilitated trainers each, a training session
    registered in each (declarations need one); HTTP clients open for the block."""
    endpoints = platform.endpoints()
    limit = asyncio.Semaphore(concurrency)
    pool = httpx.Limits(max_connections=200)
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=60.0, limits=pool)
            )
            for name, url in endpoints.http().items()
        }
        soak = Soak(endpoints, clients, seed=2026)
        now = OffsetClock(endpoints.clock_offset_file).now()
        soak.month = _previous_month(now.date())
        await soak.operator.bootstrap(soak.run)

        async def habilitate(of: OF, n: int) -> Person:
            async with limit:
                return await soak.habilitate(of, n)

        async def organisation(n: int) -> OF:
            async with limit:
                of = await soak.organisation(n)

            of.people = list(await asyncio.gather(*(habilitate(of, i) for i in range(people))))
            of.hired = people
            await soak.register_session(of, of.people[0])
            return of

        created = await asyncio.gather(*(organisation(n) for n in range(organisations)))
        # The declaration service learns of each habilitation from Kafka, after the
        # habilitation service shows it active: wait until it lets every person in, not only
        # the one who registered the session.
        await asyncio.gather(
            *(
                declarer_let_in(clients["declaration"], of.id, p.token, p.login_id)
                for of in created
                for p in of.people
            )
        )
        yield Tenants(soak, list(created))


def _previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)
