"""The organisation table (asyncpg): adhesions and their access status."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from kairos_identity.domain.organisations import OrganisationAccess, OrganisationStatus
from kairos_shared.db import Connection
from kairos_shared.zones import Zone


class DuplicateSiretError(Exception):
    """A live adhesion (requested, active or suspended) already holds this SIRET (K1)."""


@dataclass(frozen=True)
class Contact:
    first_name: str
    last_name: str
    email: str
    function: str = ""


@dataclass(frozen=True)
class OrganisationRecord:
    id: uuid.UUID
    siret: str
    nda: str
    legal_name: str
    street: str
    postal_code: str
    city: str
    departement: str
    zone: str
    head: Contact
    rgc: Contact
    terms_version: str
    terms_accepted_on: date
    requested_at: datetime
    access: OrganisationAccess
    head_is_rgc: bool = False
    """One person, one account holding both roles (K1): `rgc` is the head."""


async def insert(connection: Connection, record: OrganisationRecord) -> None:
    try:
        await connection.execute(
            """
            INSERT INTO organisation (
                id, siret, nda, legal_name, street, postal_code, city, departement, zone,
                head_first_name, head_last_name, head_function, head_email,
                rgc_first_name, rgc_last_name, rgc_email,
                terms_version, terms_accepted_on, status, requested_at, head_is_rgc)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                    $17, $18, $19, $20, $21)
            """,
            record.id, record.siret, record.nda, record.legal_name, record.street,
            record.postal_code, record.city, record.departement, record.zone,
            record.head.first_name, record.head.last_name, record.head.function, record.head.email,
            record.rgc.first_name, record.rgc.last_name, record.rgc.email,
            record.terms_version, record.terms_accepted_on, record.access.status.value,
            record.requested_at, record.head_is_rgc,
        )  # fmt: skip
    except asyncpg.UniqueViolationError as error:
        raise DuplicateSiretError(record.siret) from error


_SELECT = "SELECT * FROM organisation WHERE id = $1"
_SELECT_FOR_UPDATE = _SELECT + " FOR UPDATE"


def _from_row(row: asyncpg.Record) -> OrganisationRecord:
    return OrganisationRecord(
        id=row["id"],
        siret=row["siret"],
        nda=row["nda"],
        legal_name=row["legal_name"],
        street=row["street"],
        postal_code=row["postal_code"],
        city=row["city"],
        departement=row["departement"],
        zone=row["zone"],
        head=Contact(
            row["head_first_name"], row["head_last_name"], row["head_email"], row["head_function"]
        ),
        rgc=Contact(row["rgc_first_name"], row["rgc_last_name"], row["rgc_email"]),
        terms_version=row["terms_version"],
        terms_accepted_on=row["terms_accepted_on"],
        requested_at=row["requested_at"],
        access=OrganisationAccess(
            OrganisationStatus(row["status"]),
            row["access_expires_at"],
            frozenset(row["expiry_notices_sent"]),
        ),
        head_is_rgc=row["head_is_rgc"],
    )


async def get(
    connection: Connection, organisation_id: uuid.UUID, *, for_update: bool = False
) -> OrganisationRecord | None:
    query = _SELECT_FOR_UPDATE if for_update else _SELECT
    row = await connection.fetchrow(query, organisation_id)
    return None if row is None else _from_row(row)


async def live_with_siret(connection: Connection, siret: str) -> OrganisationRecord | None:
    """The live organisation (requested, active or suspended) holding `siret`, if any."""
    row = await connection.fetchrow(
        "SELECT * FROM organisation WHERE siret = $1"
        " AND status IN ('requested', 'active', 'suspended')",
        siret,
    )
    return None if row is None else _from_row(row)


async def save_access(
    connection: Connection,
    organisation_id: uuid.UUID,
    access: OrganisationAccess,
    *,
    now: datetime,
    reason: str | None = None,
    validated_by: uuid.UUID | None = None,
) -> None:
    """Store the new access; DuplicateSiretError when it would make a second live organisation
    of one SIRET (renewing an old adhesion after the SIRET applied again)."""
    try:
        await _update_access(
            connection, organisation_id, access, now=now, reason=reason, validated_by=validated_by
        )
    except asyncpg.UniqueViolationError as error:
        raise DuplicateSiretError(str(organisation_id)) from error


async def _update_access(
    connection: Connection,
    organisation_id: uuid.UUID,
    access: OrganisationAccess,
    *,
    now: datetime,
    reason: str | None,
    validated_by: uuid.UUID | None,
) -> None:
    await connection.execute(
        """
        UPDATE organisation
        SET status = $2, access_expires_at = $3, expiry_notices_sent = $4, status_reason = $5,
            status_changed_at = $6,
            validated_at = CASE WHEN $7::uuid IS NULL THEN validated_at ELSE $6 END,
            validated_by = coalesce($7, validated_by)
        WHERE id = $1
        """,
        organisation_id,
        access.status.value,
        access.access_expires_at,
        sorted(access.expiry_notices_sent),
        reason,
        now,
        validated_by,
    )


async def zone_of(connection: Connection, organisation_id: uuid.UUID | None) -> Zone:
    """The zone whose days an account's deadlines count (K6): its organisation's, from the
    postal code of its address (SPEC §4); metropolitan for an account of no organisation."""
    if organisation_id is None:
        return Zone.METROPOLITAN
    zone: str | None = await connection.fetchval(
        "SELECT zone FROM organisation WHERE id = $1", organisation_id
    )
    return Zone.METROPOLITAN if zone is None else Zone(zone)
