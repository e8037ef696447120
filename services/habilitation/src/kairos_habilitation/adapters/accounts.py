"""Accounts and ended sessions as the identity service's events describe them (asyncpg).

No credential ever reaches this service: only an account's role, organisation, status and last
login (K15), and the sessions identity ended, whose tokens are refused at once (K9).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from kairos_shared.db import Connection


@dataclass(frozen=True)
class KnownAccount:
    id: uuid.UUID
    organisation_id: uuid.UUID | None
    role: str
    status: str
    last_login_at: datetime | None


async def created(
    connection: Connection,
    account_id: uuid.UUID,
    organisation_id: uuid.UUID | None,
    role: str,
    at: datetime,
) -> None:
    await connection.execute(
        """
        INSERT INTO account (id, organisation_id, role, status, created_at)
        VALUES ($1, $2, $3, 'provisional', $4)
        ON CONFLICT (id) DO NOTHING
        """,
        account_id, organisation_id, role, at,
    )  # fmt: skip


async def set_status(connection: Connection, account_id: uuid.UUID, status: str) -> None:
    """Record a status change; a lapse holds until new credentials lift it (`lift_lapse`)."""
    await connection.execute(
        "UPDATE account SET status = $2 WHERE id = $1 AND status <> 'lapsed'", account_id, status
    )


async def lift_lapse(connection: Connection, account_id: uuid.UUID) -> None:
    """New credentials for a lapsed account (K6): provisional again. The identity service
    publishes an account's events in order (one key), so nothing older arrives after this."""
    await connection.execute(
        "UPDATE account SET status = 'provisional' WHERE id = $1 AND status = 'lapsed'", account_id
    )


async def logged_in(connection: Connection, account_id: uuid.UUID, at: datetime) -> None:
    await connection.execute(
        """
        UPDATE account SET last_login_at = greatest(last_login_at, $2) WHERE id = $1
        """,
        account_id, at,
    )  # fmt: skip


async def get(connection: Connection, account_id: uuid.UUID) -> KnownAccount | None:
    row = await connection.fetchrow(
        "SELECT id, organisation_id, role, status, last_login_at FROM account WHERE id = $1",
        account_id,
    )
    return None if row is None else KnownAccount(**dict(row))


async def session_ended(
    connection: Connection, session_id: uuid.UUID, account_id: uuid.UUID, at: datetime
) -> None:
    await connection.execute(
        """
        INSERT INTO ended_session (session_id, account_id, ended_at) VALUES ($1, $2, $3)
        ON CONFLICT (session_id) DO NOTHING
        """,
        session_id, account_id, at,
    )  # fmt: skip


async def is_session_ended(connection: Connection, session_id: uuid.UUID) -> bool:
    found = await connection.fetchval(
        "SELECT true FROM ended_session WHERE session_id = $1", session_id
    )
    return bool(found)


async def prune_ended_sessions(connection: Connection, before: datetime) -> int:
    """Forget sessions ended before `before` (their tokens have all expired since)."""
    result = await connection.execute("DELETE FROM ended_session WHERE ended_at < $1", before)
    return int(result.split()[-1])
