"""The training_session table (asyncpg): the OF's sessions and their bounds (K16, K19)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from kairos_shared.db import Connection


@dataclass(frozen=True)
class StoredSession:
    organisation_id: uuid.UUID
    action_number: str
    session_number: str
    starts_on: date
    ends_on: date
    weekly_hours: Decimal
    registered_by: uuid.UUID
    registered_at: datetime


async def upsert(connection: Connection, session: StoredSession) -> StoredSession:
    """Register the session, or update its dates and hours; the stored session."""
    row = await connection.fetchrow(
        """
        INSERT INTO training_session (organisation_id, action_number, session_number, starts_on,
                                      ends_on, weekly_hours, registered_by, registered_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (organisation_id, action_number, session_number) DO UPDATE
        SET starts_on = EXCLUDED.starts_on, ends_on = EXCLUDED.ends_on,
            weekly_hours = EXCLUDED.weekly_hours
        RETURNING *
        """,
        session.organisation_id, session.action_number, session.session_number,
        session.starts_on, session.ends_on, session.weekly_hours, session.registered_by,
        session.registered_at,
    )  # fmt: skip
    assert row is not None
    return StoredSession(**dict(row))


async def get(
    connection: Connection, organisation_id: uuid.UUID, action_number: str, session_number: str
) -> StoredSession | None:
    row = await connection.fetchrow(
        """
        SELECT * FROM training_session
        WHERE organisation_id = $1 AND action_number = $2 AND session_number = $3
        """,
        organisation_id, action_number, session_number,
    )  # fmt: skip
    return None if row is None else StoredSession(**dict(row))


async def list_of(
    connection: Connection, organisation_id: uuid.UUID, *, after: tuple[str, str] | None, limit: int
) -> list[StoredSession]:
    rows = await connection.fetch(
        """
        SELECT * FROM training_session
        WHERE organisation_id = $1
          AND ($2::text IS NULL OR (action_number, session_number) > ($2, $3))
        ORDER BY action_number, session_number LIMIT $4
        """,
        organisation_id, after and after[0], after and after[1], limit,
    )  # fmt: skip
    return [StoredSession(**dict(row)) for row in rows]
