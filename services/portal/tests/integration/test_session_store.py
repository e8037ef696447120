"""Web sessions in the portal's own PostgreSQL database: the migration applies, a session is
found by its cookie's digest only, its tokens are replaced on refresh, and it is deleted at
logout or once idle."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest_asyncio

from kairos_portal.adapters.session_store import PostgresSessionStore
from kairos_portal.bootstrap import MIGRATIONS
from kairos_portal.domain.web_sessions import digest, open_session
from kairos_shared.migrations import apply_migrations

NOW = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)


@pytest_asyncio.fixture(loop_scope="session")
async def store(new_database: Callable[[], Awaitable[str]]) -> AsyncIterator[PostgresSessionStore]:
    pool = await asyncpg.create_pool(await new_database(), min_size=1, max_size=2)
    assert pool is not None
    try:
        async with pool.acquire() as connection:
            await apply_migrations(connection, MIGRATIONS, component="portal")
        yield PostgresSessionStore(pool)
    finally:
        await pool.close()


async def test_a_session_is_kept_under_its_cookies_digest_and_refreshed_in_place(
    store: PostgresSessionStore,
) -> None:
    session = open_session("cookie-1", "pdupont", "access-1", "refresh-1", expires_in=600, now=NOW)
    await store.add(session)

    assert await store.get(b"cookie-1") is None  # the cookie itself is no key
    found = await store.get(digest("cookie-1"))
    assert found == session

    later = NOW + timedelta(minutes=9)
    await store.save(session.with_tokens("access-2", "refresh-2", 600, later).seen(later))
    renewed = await store.get(digest("cookie-1"))
    assert renewed is not None
    assert (renewed.access_token, renewed.refresh_token) == ("access-2", "refresh-2")
    assert renewed.last_seen_at == later
    assert renewed.csrf_token == session.csrf_token


async def test_logout_and_idleness_delete_the_sessions_tokens(store: PostgresSessionStore) -> None:
    first = open_session("cookie-a", "a", "access-a", "refresh-a", expires_in=600, now=NOW)
    idle = open_session("cookie-b", "b", "access-b", "refresh-b", expires_in=600,
                        now=NOW - timedelta(hours=1))  # fmt: skip
    for session in (first, idle):
        await store.add(session)

    assert await store.delete_idle(NOW - timedelta(minutes=30)) == 1
    assert await store.get(idle.key) is None
    await store.delete(first.key)
    assert await store.get(first.key) is None
