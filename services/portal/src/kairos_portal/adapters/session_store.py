"""Web sessions in the portal's own PostgreSQL database (asyncpg)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from kairos_portal.domain.web_sessions import WebSession
from kairos_shared.db import ping

_COLUMNS = (
    "session_key, login_id, access_token, refresh_token, access_expires_at, csrf_token, "
    "created_at, last_seen_at"
)


def _session(row: asyncpg.Record) -> WebSession:
    return WebSession(
        key=bytes(row["session_key"]), login_id=row["login_id"],
        access_token=row["access_token"], refresh_token=row["refresh_token"],
        access_expires_at=row["access_expires_at"], csrf_token=row["csrf_token"],
        created_at=row["created_at"], last_seen_at=row["last_seen_at"],
    )  # fmt: skip


class PostgresSessionStore:
    """Opened without a pool; the application's lifespan attaches it once migrated."""

    def __init__(self, pool: asyncpg.Pool | None = None) -> None:
        self._connections = pool

    def attach(self, pool: asyncpg.Pool | None) -> None:
        self._connections = pool

    @property
    def _pool(self) -> asyncpg.Pool:
        if self._connections is None:
            raise RuntimeError("the session store has no database pool (not started)")
        return self._connections

    async def ping(self, timeout: float) -> None:
        await ping(self._pool, timeout)

    async def get(self, key: bytes) -> WebSession | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM web_sessions WHERE session_key = $1",  # noqa: S608 - fixed
            key,
        )
        return None if row is None else _session(row)

    async def add(self, session: WebSession) -> None:
        await self._pool.execute(
            f"INSERT INTO web_sessions ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",  # noqa: S608 - fixed
            session.key, session.login_id, session.access_token, session.refresh_token,
            session.access_expires_at, session.csrf_token, session.created_at,
            session.last_seen_at,
        )  # fmt: skip

    async def save(self, session: WebSession) -> None:
        await self._pool.execute(
            """
            UPDATE web_sessions SET access_token = $2, refresh_token = $3,
                   access_expires_at = $4, last_seen_at = $5
             WHERE session_key = $1
            """,
            session.key, session.access_token, session.refresh_token,
            session.access_expires_at, session.last_seen_at,
        )  # fmt: skip

    async def delete(self, key: bytes) -> None:
        await self._pool.execute("DELETE FROM web_sessions WHERE session_key = $1", key)

    async def delete_idle(self, last_seen_before: datetime) -> int:
        status = await self._pool.execute(
            "DELETE FROM web_sessions WHERE last_seen_at < $1", last_seen_before
        )
        return int(status.split()[-1])
