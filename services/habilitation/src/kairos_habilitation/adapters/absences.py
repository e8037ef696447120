"""The absence table (asyncpg): recorded absences of habilitated people and of RGCs (K10, K13)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from kairos_habilitation.domain.absences import Absence
from kairos_shared.db import Connection


@dataclass(frozen=True)
class RecordedAbsence:
    id: uuid.UUID
    organisation_id: uuid.UUID
    habilitation_id: uuid.UUID | None
    rgc_account_id: uuid.UUID | None
    starts_on: date
    ends_on: date | None
    reaches_limit_on: date
    recorded_by: uuid.UUID
    recorded_at: datetime
    applied_at: datetime | None = None

    @property
    def absence(self) -> Absence:
        return Absence(self.starts_on, self.ends_on)


def _absence(row: asyncpg.Record) -> RecordedAbsence:
    return RecordedAbsence(**{name: row[name] for name in RecordedAbsence.__dataclass_fields__})


async def insert(connection: Connection, absence: RecordedAbsence) -> None:
    await connection.execute(
        """
        INSERT INTO absence (id, organisation_id, habilitation_id, rgc_account_id, starts_on,
                             ends_on, reaches_limit_on, recorded_by, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        absence.id, absence.organisation_id, absence.habilitation_id, absence.rgc_account_id,
        absence.starts_on, absence.ends_on, absence.reaches_limit_on, absence.recorded_by,
        absence.recorded_at,
    )  # fmt: skip


async def get(
    connection: Connection, absence_id: uuid.UUID, *, for_update: bool = False
) -> RecordedAbsence | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await connection.fetchrow(
        f"SELECT * FROM absence WHERE id = $1{lock}",  # noqa: S608 - constant suffix
        absence_id,
    )
    return None if row is None else _absence(row)


async def set_return(connection: Connection, absence_id: uuid.UUID, ends_on: date) -> None:
    await connection.execute("UPDATE absence SET ends_on = $2 WHERE id = $1", absence_id, ends_on)


async def mark_applied(connection: Connection, absence_id: uuid.UUID, at: datetime) -> None:
    await connection.execute("UPDATE absence SET applied_at = $2 WHERE id = $1", absence_id, at)


async def claim_due(
    connection: Connection, todays: Mapping[str, date], limit: int
) -> list[RecordedAbsence]:
    """Absences that reached their limit by today in their organisation's zone (`todays`: the
    day by zone), still open on it, not applied yet; locked so that another replica's
    scheduler skips them (the caller holds the transaction)."""
    rows = await connection.fetch(
        """
        SELECT absence.* FROM absence
        JOIN organisation ON organisation.id = absence.organisation_id
        JOIN unnest($1::text[], $2::date[]) AS local(zone, today) ON local.zone = organisation.zone
        WHERE applied_at IS NULL AND reaches_limit_on <= local.today
          AND (ends_on IS NULL OR ends_on >= reaches_limit_on)
        ORDER BY reaches_limit_on, absence.id
        LIMIT $3
        FOR UPDATE OF absence SKIP LOCKED
        """,
        list(todays), list(todays.values()), limit,
    )  # fmt: skip
    return [_absence(row) for row in rows]


async def of_habilitation(
    connection: Connection, habilitation_id: uuid.UUID
) -> list[RecordedAbsence]:
    rows = await connection.fetch(
        "SELECT * FROM absence WHERE habilitation_id = $1 ORDER BY starts_on, id",
        habilitation_id,
    )
    return [_absence(row) for row in rows]
