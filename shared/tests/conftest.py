"""Fixtures for the messaging tests: a database with the outbox and inbox tables."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from kairos_devstack.testing import EFFECTS_TABLE
from kairos_shared.db import create_pool
from kairos_shared.migrations import apply_migrations
from kairos_shared.runtime import SHARED_MIGRATIONS


@pytest_asyncio.fixture(loop_scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh database that has the shared messaging tables and an effects table."""
    pool = await create_pool(database_url, min_size=1, max_size=8)
    async with pool.acquire() as connection:
        await apply_migrations(connection, SHARED_MIGRATIONS, component="kairos_shared")
        await connection.execute(EFFECTS_TABLE)
    yield pool
    await pool.close()
