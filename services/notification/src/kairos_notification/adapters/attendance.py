"""What the declarations say of trainees in training (asyncpg): entries, exits and monthly
statements as accepted (K16), to remind an organisation of the statements still missing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from kairos_shared.db import Connection

Fact = Literal["training_entry", "training_exit", "attendance_statement"]
FACTS: tuple[Fact, ...] = ("training_entry", "training_exit", "attendance_statement")


@dataclass(frozen=True)
class Declared:
    """One accepted declaration about a trainee in a session, and its day (entry, exit) or
    month (statement: its first day)."""

    declaration_id: uuid.UUID
    organisation_id: uuid.UUID
    trainee_id: str
    action_number: str
    session_number: str
    day: date


async def record(connection: Connection, fact: Fact, declared: Declared) -> None:
    """Record (or correct) a declaration's fact; it is live until cancelled."""
    assert fact in FACTS
    await connection.execute(
        f"""
        INSERT INTO {fact} (declaration_id, organisation_id, trainee_id, action_number,
                            session_number, day, live)
        VALUES ($1, $2, $3, $4, $5, $6, true)
        ON CONFLICT (declaration_id) DO UPDATE SET day = EXCLUDED.day
        """,  # noqa: S608 - the table is one of three constants
        declared.declaration_id, declared.organisation_id, declared.trainee_id,
        declared.action_number, declared.session_number, declared.day,
    )  # fmt: skip


async def cancelled(connection: Connection, declaration_id: uuid.UUID) -> None:
    for fact in FACTS:
        await connection.execute(
            f"UPDATE {fact} SET live = false WHERE declaration_id = $1",  # noqa: S608 - constant
            declaration_id,
        )


async def missing_statements(
    connection: Connection, organisation_id: uuid.UUID, first_day: date, last_day: date
) -> int:
    """Trainees in training during the month (entered by its last day, not left before its
    first) with no live statement for it."""
    count = await connection.fetchval(
        """
        SELECT count(*) FROM training_entry e
        WHERE e.organisation_id = $1 AND e.live AND e.day <= $3
          AND NOT EXISTS (
            SELECT 1 FROM training_exit x
            WHERE x.live AND x.organisation_id = e.organisation_id AND x.trainee_id = e.trainee_id
              AND x.action_number = e.action_number AND x.session_number = e.session_number
              AND x.day < $2)
          AND NOT EXISTS (
            SELECT 1 FROM attendance_statement s
            WHERE s.live AND s.organisation_id = e.organisation_id
              AND s.trainee_id = e.trainee_id AND s.action_number = e.action_number
              AND s.session_number = e.session_number AND s.day = $2)
        """,
        organisation_id, first_day, last_day,
    )  # fmt: skip
    return int(count)


async def claim_reminder(
    connection: Connection, organisation_id: uuid.UUID, month: date, at: datetime
) -> bool:
    """Whether this caller is the one to remind the organisation of `month` (once, ever)."""
    claimed = await connection.fetchval(
        """
        INSERT INTO attendance_reminder (organisation_id, month, sent_at) VALUES ($1, $2, $3)
        ON CONFLICT DO NOTHING RETURNING true
        """,
        organisation_id, month, at,
    )  # fmt: skip
    return bool(claimed)
