"""The asyncpg connection pool of a service (each service owns its database)."""

from __future__ import annotations

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Connection = asyncpg.Connection | PoolConnectionProxy
"""A connection, whether opened alone or acquired from the pool."""


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size)
    if pool is None:  # pragma: no cover - asyncpg returns None only when not awaited
        raise RuntimeError("asyncpg returned no pool")
    return pool


async def ping(pool: asyncpg.Pool, timeout: float) -> None:
    """Raise unless the database answers a trivial query within ``timeout`` seconds."""
    async with pool.acquire(timeout=timeout) as connection:
        await connection.fetchval("SELECT 1", timeout=timeout)
