"""Fixtures for the notification service's integration tests: the identity, habilitation and
notification services running together in this process, e-mails going to the SMTP sink
(`kairos_devstack.platform`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest_asyncio

from kairos_devstack.platform import Platform, running_platform


@pytest_asyncio.fixture(loop_scope="session")
async def platform(
    new_database: Callable[[], Awaitable[str]], kafka_bootstrap_servers: str
) -> AsyncIterator[Platform]:
    async with running_platform(
        new_database, kafka_bootstrap_servers, with_notification=True
    ) as platform:
        yield platform
