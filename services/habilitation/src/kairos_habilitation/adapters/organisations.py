"""The organisation and RGC post tables (asyncpg): this service's view of the organisations the
identity service validated, and who holds each one's RGC post (K10)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from kairos_habilitation.domain.rgc_post import RgcPost
from kairos_shared.db import Connection


@dataclass(frozen=True)
class Organisation:
    id: uuid.UUID
    legal_name: str
    zone: str
    head_first_name: str
    head_last_name: str
    head_function: str
    head_email: str
    status: str
    validated_at: datetime
    status_changed_at: datetime
    siret: str | None = None

    @property
    def is_active(self) -> bool:
        return self.status == "active"


def _organisation(row: asyncpg.Record) -> Organisation:
    return Organisation(**{name: row[name] for name in Organisation.__dataclass_fields__})


async def insert_if_new(connection: Connection, organisation: Organisation) -> bool:
    """Record a validated organisation; False when it was already known."""
    inserted = await connection.fetchval(
        """
        INSERT INTO organisation (id, legal_name, zone, head_first_name, head_last_name,
                                  head_function, head_email, status, validated_at,
                                  status_changed_at, siret)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (id) DO NOTHING
        RETURNING true
        """,
        organisation.id, organisation.legal_name, organisation.zone,
        organisation.head_first_name, organisation.head_last_name, organisation.head_function,
        organisation.head_email, organisation.status, organisation.validated_at,
        organisation.status_changed_at, organisation.siret,
    )  # fmt: skip
    return bool(inserted)


async def get(
    connection: Connection, organisation_id: uuid.UUID, *, for_update: bool = False
) -> Organisation | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await connection.fetchrow(
        f"SELECT * FROM organisation WHERE id = $1{lock}",  # noqa: S608 - constant suffix
        organisation_id,
    )
    return None if row is None else _organisation(row)


async def set_status(
    connection: Connection, organisation_id: uuid.UUID, status: str, *, at: datetime
) -> str | None:
    """Set the organisation's access status; the previous one (None: unknown organisation)."""
    return await connection.fetchval(  # type: ignore[no-any-return] # asyncpg is untyped
        """
        UPDATE organisation AS o SET status = $2, status_changed_at = $3
        FROM (SELECT id, status FROM organisation WHERE id = $1 FOR UPDATE) AS before
        WHERE o.id = before.id
        RETURNING before.status
        """,
        organisation_id, status, at,
    )  # fmt: skip


async def set_validated_at(
    connection: Connection, organisation_id: uuid.UUID, validated_at: datetime
) -> None:
    await connection.execute(
        "UPDATE organisation SET validated_at = $2 WHERE id = $1", organisation_id, validated_at
    )


def _post(row: asyncpg.Record) -> RgcPost:
    def text(value: uuid.UUID | None) -> str | None:
        return None if value is None else str(value)

    return RgcPost(
        organisation_id=str(row["organisation_id"]),
        rgc_account_id=text(row["rgc_account_id"]),
        head_account_id=text(row["head_account_id"]),
        vacant_since=row["vacant_since"],
    )


async def post(
    connection: Connection, organisation_id: uuid.UUID, *, for_update: bool = False
) -> RgcPost | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await connection.fetchrow(
        f"SELECT * FROM rgc_post WHERE organisation_id = $1{lock}",  # noqa: S608 - constant suffix
        organisation_id,
    )
    return None if row is None else _post(row)


async def save_post(connection: Connection, post: RgcPost) -> None:
    def ident(value: str | None) -> uuid.UUID | None:
        return None if value is None else uuid.UUID(value)

    await connection.execute(
        """
        INSERT INTO rgc_post (organisation_id, rgc_account_id, head_account_id, vacant_since)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (organisation_id) DO UPDATE
        SET rgc_account_id = EXCLUDED.rgc_account_id,
            head_account_id = EXCLUDED.head_account_id,
            vacant_since = EXCLUDED.vacant_since
        """,
        uuid.UUID(post.organisation_id), ident(post.rgc_account_id),
        ident(post.head_account_id), post.vacant_since,
    )  # fmt: skip


@dataclass(frozen=True)
class RgcDesignation:
    """A designation (K10): pending an operator's decision, validated or rejected.
    `designated_by` is the head's account, None for a request made without an account."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    first_name: str
    last_name: str
    email: str
    designated_by: uuid.UUID | None
    designated_at: datetime
    account_role: str = "rgc"
    status: str = "pending"
    decided_by: uuid.UUID | None = None
    decided_at: datetime | None = None
    rejection_reason: str | None = None
    account_id: uuid.UUID | None = None
    took_office_at: datetime | None = None


def _designation(row: asyncpg.Record) -> RgcDesignation:
    return RgcDesignation(**{name: row[name] for name in RgcDesignation.__dataclass_fields__})


async def insert_designation(connection: Connection, designation: RgcDesignation) -> None:
    await connection.execute(
        """
        INSERT INTO rgc_designation (id, organisation_id, first_name, last_name, email,
                                     designated_by, designated_at, account_role, status)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        designation.id, designation.organisation_id, designation.first_name,
        designation.last_name, designation.email, designation.designated_by,
        designation.designated_at, designation.account_role, designation.status,
    )  # fmt: skip


async def designation(
    connection: Connection, designation_id: uuid.UUID, *, for_update: bool = False
) -> RgcDesignation | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await connection.fetchrow(
        f"SELECT * FROM rgc_designation WHERE id = $1{lock}",  # noqa: S608 - constant suffix
        designation_id,
    )
    return None if row is None else _designation(row)


async def decide_designation(
    connection: Connection,
    designation_id: uuid.UUID,
    status: str,
    *,
    by: uuid.UUID,
    at: datetime,
    reason: str | None = None,
) -> None:
    await connection.execute(
        """
        UPDATE rgc_designation SET status = $2, decided_by = $3, decided_at = $4,
                                   rejection_reason = $5
        WHERE id = $1
        """,
        designation_id, status, by, at, reason,
    )  # fmt: skip


async def pending_designations(
    connection: Connection, organisation_id: uuid.UUID | None, limit: int
) -> list[RgcDesignation]:
    """Pending designations, oldest first, across organisations or for one."""
    rows = await connection.fetch(
        """
        SELECT * FROM rgc_designation
        WHERE status = 'pending' AND ($1::uuid IS NULL OR organisation_id = $1)
        ORDER BY designated_at, id LIMIT $2
        """,
        organisation_id, limit,
    )  # fmt: skip
    return [_designation(row) for row in rows]


async def supersede_pending(
    connection: Connection, organisation_id: uuid.UUID, *, at: datetime
) -> None:
    """A newer request replaces those still pending (they are rejected, not validated)."""
    await connection.execute(
        """
        UPDATE rgc_designation SET status = 'rejected', decided_at = $2,
                                   rejection_reason = 'superseded by a newer request'
        WHERE organisation_id = $1 AND status = 'pending'
        """,
        organisation_id, at,
    )  # fmt: skip


async def designation_account_opened(
    connection: Connection, designation_id: uuid.UUID, account_id: uuid.UUID, at: datetime
) -> RgcDesignation | None:
    """Mark the designation's account open; None when unknown or already done."""
    row = await connection.fetchrow(
        """
        UPDATE rgc_designation SET account_id = $2, took_office_at = $3
        WHERE id = $1 AND account_id IS NULL
        RETURNING *
        """,
        designation_id, account_id, at,
    )  # fmt: skip
    return None if row is None else _designation(row)


async def latest_designation_id(
    connection: Connection, organisation_id: uuid.UUID
) -> uuid.UUID | None:
    """The latest validated designation of a new RGC: the one whose account takes office."""
    return await connection.fetchval(  # type: ignore[no-any-return] # asyncpg is untyped
        """
        SELECT id FROM rgc_designation
        WHERE organisation_id = $1 AND status = 'validated' AND account_role = 'rgc'
        ORDER BY decided_at DESC NULLS LAST, designated_at DESC, id DESC LIMIT 1
        """,
        organisation_id,
    )


async def by_siret(connection: Connection, siret: str) -> Organisation | None:
    """The validated organisation with this SIRET (the latest, should there be several)."""
    row = await connection.fetchrow(
        "SELECT * FROM organisation WHERE siret = $1 ORDER BY validated_at DESC LIMIT 1", siret
    )
    return None if row is None else _organisation(row)
