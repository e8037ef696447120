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
                                  status_changed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (id) DO NOTHING
        RETURNING true
        """,
        organisation.id, organisation.legal_name, organisation.zone,
        organisation.head_first_name, organisation.head_last_name, organisation.head_function,
        organisation.head_email, organisation.status, organisation.validated_at,
        organisation.status_changed_at,
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
    id: uuid.UUID
    organisation_id: uuid.UUID
    first_name: str
    last_name: str
    email: str
    designated_by: uuid.UUID
    designated_at: datetime
    account_id: uuid.UUID | None = None
    took_office_at: datetime | None = None


async def insert_designation(connection: Connection, designation: RgcDesignation) -> None:
    await connection.execute(
        """
        INSERT INTO rgc_designation (id, organisation_id, first_name, last_name, email,
                                     designated_by, designated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        designation.id, designation.organisation_id, designation.first_name,
        designation.last_name, designation.email, designation.designated_by,
        designation.designated_at,
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
    if row is None:
        return None
    return RgcDesignation(**{name: row[name] for name in RgcDesignation.__dataclass_fields__})


async def latest_designation_id(
    connection: Connection, organisation_id: uuid.UUID
) -> uuid.UUID | None:
    return await connection.fetchval(  # type: ignore[no-any-return] # asyncpg is untyped
        """
        SELECT id FROM rgc_designation WHERE organisation_id = $1
        ORDER BY designated_at DESC, id DESC LIMIT 1
        """,
        organisation_id,
    )
