"""The habilitation table (asyncpg), mapped to the domain's `Habilitation`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from kairos_habilitation.domain.habilitations import (
    EndReason,
    HabilitatedPerson,
    Habilitation,
    HabilitationRole,
    HabilitationStatus,
    SignedAuthorisation,
)
from kairos_shared.db import Connection


class PersonAlreadyHabilitatedError(Exception):
    """The person (by e-mail) already holds a live habilitation for the organisation."""


class HeadAlreadyHabilitatedError(Exception):
    """The organisation's head already holds a live habilitation."""


def _optional_text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _habilitation(row: asyncpg.Record) -> Habilitation:
    return Habilitation(
        id=str(row["id"]),
        organisation_id=str(row["organisation_id"]),
        role=HabilitationRole(row["role"]),
        person=HabilitatedPerson(row["first_name"], row["last_name"], row["email"]),
        function=row["function"],
        authorisation=SignedAuthorisation(
            row["signed_by"], row["signed_on"], row["document_sha256"]
        ),
        employee_attested=row["employee_attested"],
        recorded_by=str(row["recorded_by"]),
        recorded_at=row["recorded_at"],
        status=HabilitationStatus(row["status"]),
        account_id=_optional_text(row["account_id"]),
        ended_at=row["ended_at"],
        end_reason=None if row["end_reason"] is None else EndReason(row["end_reason"]),
        suspended_at=row["suspended_at"],
    )


async def insert(connection: Connection, habilitation: Habilitation) -> None:
    try:
        await connection.execute(
            """
            INSERT INTO habilitation (id, organisation_id, role, first_name, last_name, email,
                                      function, signed_by, signed_on, document_sha256,
                                      employee_attested, recorded_by, recorded_at, status)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
            """,
            uuid.UUID(habilitation.id), uuid.UUID(habilitation.organisation_id),
            habilitation.role.value, habilitation.person.first_name,
            habilitation.person.last_name, habilitation.person.email, habilitation.function,
            habilitation.authorisation.signed_by, habilitation.authorisation.signed_on,
            habilitation.authorisation.document_sha256, habilitation.employee_attested,
            uuid.UUID(habilitation.recorded_by), habilitation.recorded_at,
            habilitation.status.value,
        )  # fmt: skip
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == "habilitation_live_head":
            raise HeadAlreadyHabilitatedError from None
        raise PersonAlreadyHabilitatedError from None


async def save(
    connection: Connection, habilitation: Habilitation, *, now: datetime, by: str | None = None
) -> None:
    """Store the life-cycle fields of `habilitation` (status, account, suspension, ending);
    `now` dates its activation, `by` its ending."""
    await connection.execute(
        """
        UPDATE habilitation
        SET status = $2, account_id = $3,
            activated_at = CASE WHEN $2 = 'active' AND activated_at IS NULL
                                THEN $8 ELSE activated_at END,
            suspended_at = $4, ended_at = $5, end_reason = $6,
            ended_by = CASE WHEN $5::timestamptz IS NOT NULL AND ended_by IS NULL
                            THEN $7::uuid ELSE ended_by END
        WHERE id = $1
        """,
        uuid.UUID(habilitation.id), habilitation.status.value,
        None if habilitation.account_id is None else uuid.UUID(habilitation.account_id),
        habilitation.suspended_at, habilitation.ended_at,
        None if habilitation.end_reason is None else habilitation.end_reason.value,
        None if by is None else uuid.UUID(by), now,
    )  # fmt: skip


async def get(
    connection: Connection, habilitation_id: uuid.UUID, *, for_update: bool = False
) -> Habilitation | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await connection.fetchrow(
        f"SELECT * FROM habilitation WHERE id = $1{lock}",  # noqa: S608 - constant suffix
        habilitation_id,
    )
    return None if row is None else _habilitation(row)


async def by_account(connection: Connection, account_id: uuid.UUID) -> Habilitation | None:
    row = await connection.fetchrow("SELECT * FROM habilitation WHERE account_id = $1", account_id)
    return None if row is None else _habilitation(row)


async def live_of_organisation(
    connection: Connection, organisation_id: uuid.UUID, *, for_update: bool = False
) -> list[Habilitation]:
    lock = " FOR UPDATE" if for_update else ""
    rows = await connection.fetch(
        f"""SELECT * FROM habilitation WHERE organisation_id = $1 AND status <> 'ended'
            ORDER BY recorded_at, id{lock}""",  # noqa: S608 - constant suffix
        organisation_id,
    )
    return [_habilitation(row) for row in rows]


@dataclass(frozen=True)
class ListedHabilitation:
    """A habilitation as listed for the RGC and the operators (K15), with its holder's usage."""

    habilitation: Habilitation
    activated_at: datetime | None
    last_login_at: datetime | None
    ended_by: str | None


async def list_of_organisation(
    connection: Connection, organisation_id: uuid.UUID, statuses: Sequence[str]
) -> list[ListedHabilitation]:
    rows = await connection.fetch(
        """
        SELECT h.*, a.last_login_at
        FROM habilitation h LEFT JOIN account a ON a.id = h.account_id
        WHERE h.organisation_id = $1 AND h.status = ANY($2::text[])
        ORDER BY h.recorded_at, h.id
        """,
        organisation_id, list(statuses),
    )  # fmt: skip
    return [
        ListedHabilitation(
            _habilitation(row),
            row["activated_at"],
            row["last_login_at"],
            _optional_text(row["ended_by"]),
        )
        for row in rows
    ]
