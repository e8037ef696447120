"""The recipient tables (asyncpg): organisations, people and habilitated people, as the events
describe them (K23); every write is an idempotent upsert."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from kairos_shared.db import Connection


@dataclass(frozen=True)
class Recipient:
    """Someone an e-mail goes to."""

    email: str
    first_name: str
    last_name: str
    account_id: uuid.UUID | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class KnownOrganisation:
    id: uuid.UUID
    legal_name: str
    siret: str
    zone: str
    head: Recipient
    rgc_account_id: uuid.UUID | None
    head_account_id: uuid.UUID | None


async def organisation_validated(connection: Connection, organisation: KnownOrganisation) -> None:
    head = organisation.head
    await connection.execute(
        """
        INSERT INTO recipient_organisation (id, legal_name, siret, zone, head_first_name,
                                            head_last_name, head_email, rgc_account_id)
        VALUES ($1, $2, $8, $3, $4, $5, $6, $7)
        ON CONFLICT (id) DO UPDATE
        SET legal_name = EXCLUDED.legal_name, siret = EXCLUDED.siret, zone = EXCLUDED.zone,
            head_first_name = EXCLUDED.head_first_name, head_last_name = EXCLUDED.head_last_name,
            head_email = EXCLUDED.head_email,
            rgc_account_id = coalesce(recipient_organisation.rgc_account_id,
                                      EXCLUDED.rgc_account_id)
        """,
        organisation.id, organisation.legal_name, organisation.zone, head.first_name,
        head.last_name, head.email, organisation.rgc_account_id, organisation.siret,
    )  # fmt: skip


async def rgc_changed(
    connection: Connection, organisation_id: uuid.UUID, rgc_account_id: uuid.UUID | None
) -> None:
    await connection.execute(
        "UPDATE recipient_organisation SET rgc_account_id = $2 WHERE id = $1",
        organisation_id, rgc_account_id,
    )  # fmt: skip


async def head_account(
    connection: Connection, organisation_id: uuid.UUID, account_id: uuid.UUID | None
) -> None:
    await connection.execute(
        "UPDATE recipient_organisation SET head_account_id = $2 WHERE id = $1",
        organisation_id, account_id,
    )  # fmt: skip


async def organisation(
    connection: Connection, organisation_id: uuid.UUID
) -> KnownOrganisation | None:
    row = await connection.fetchrow(
        "SELECT * FROM recipient_organisation WHERE id = $1", organisation_id
    )
    if row is None:
        return None
    head = Recipient(row["head_email"], row["head_first_name"], row["head_last_name"],
                     row["head_account_id"])  # fmt: skip
    return KnownOrganisation(row["id"], row["legal_name"], row["siret"], row["zone"], head,
                             row["rgc_account_id"], row["head_account_id"])  # fmt: skip


async def person_created(
    connection: Connection,
    person: Recipient,
    organisation_id: uuid.UUID | None,
    role: str,
) -> None:
    await connection.execute(
        """
        INSERT INTO recipient_person (account_id, organisation_id, role, first_name, last_name,
                                      email)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (account_id) DO NOTHING
        """,
        person.account_id, organisation_id, role, person.first_name, person.last_name,
        person.email,
    )  # fmt: skip


async def person(connection: Connection, account_id: uuid.UUID) -> Recipient | None:
    row = await connection.fetchrow(
        "SELECT * FROM recipient_person WHERE account_id = $1", account_id
    )
    if row is None:
        return None
    return Recipient(row["email"], row["first_name"], row["last_name"], row["account_id"])


@dataclass(frozen=True)
class Habilitated:
    """A habilitated person, their function and the authorisation the head signed (K12)."""

    habilitation_id: uuid.UUID
    organisation_id: uuid.UUID
    person: Recipient
    function: str
    signed_by: str
    signed_on: date


async def habilitation_recorded(connection: Connection, habilitated: Habilitated) -> None:
    person = habilitated.person
    await connection.execute(
        """
        INSERT INTO recipient_habilitation (habilitation_id, organisation_id, first_name,
                                            last_name, email, function, signed_by, signed_on)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (habilitation_id) DO NOTHING
        """,
        habilitated.habilitation_id, habilitated.organisation_id, person.first_name,
        person.last_name, person.email, habilitated.function, habilitated.signed_by,
        habilitated.signed_on,
    )  # fmt: skip


async def habilitation_activated(
    connection: Connection, habilitation_id: uuid.UUID, account_id: uuid.UUID
) -> None:
    """The habilitated person's account (after `habilitation_recorded`: same partition key)."""
    await connection.execute(
        "UPDATE recipient_habilitation SET account_id = $2 WHERE habilitation_id = $1",
        habilitation_id, account_id,
    )  # fmt: skip


async def habilitated(connection: Connection, habilitation_id: uuid.UUID) -> Habilitated | None:
    row = await connection.fetchrow(
        "SELECT * FROM recipient_habilitation WHERE habilitation_id = $1", habilitation_id
    )
    if row is None:
        return None
    person = Recipient(row["email"], row["first_name"], row["last_name"], row["account_id"])
    return Habilitated(row["habilitation_id"], row["organisation_id"], person, row["function"],
                       row["signed_by"], row["signed_on"])  # fmt: skip


async def rgc_rights_holder(
    connection: Connection, organisation: KnownOrganisation
) -> Recipient | None:
    """Whoever holds the RGC's rights: the RGC in office, else the head (K10)."""
    if organisation.rgc_account_id is not None:
        return await person(connection, organisation.rgc_account_id)
    return organisation.head


async def session_ended(connection: Connection, session_id: uuid.UUID, at: datetime) -> None:
    await connection.execute(
        "INSERT INTO ended_session VALUES ($1, $2) ON CONFLICT DO NOTHING", session_id, at
    )


async def is_session_ended(connection: Connection, session_id: uuid.UUID) -> bool:
    found = await connection.fetchval(
        "SELECT true FROM ended_session WHERE session_id = $1", session_id
    )
    return bool(found)


async def park(
    connection: Connection,
    event: tuple[str, str],
    organisation_id: uuid.UUID,
    data: str,
    at: datetime,
) -> None:
    """Keep an event (its id and type) until its organisation is known (`data`: its JSON)."""
    event_id, event_type = event
    await connection.execute(
        """
        INSERT INTO parked_event (event_id, event_type, organisation_id, data, parked_at)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING
        """,
        event_id, event_type, organisation_id, data, at,
    )  # fmt: skip


async def unpark(connection: Connection, organisation_id: uuid.UUID) -> list[tuple[str, str, str]]:
    """The events kept for `organisation_id`, oldest first, removed: (id, type, JSON)."""
    rows = await connection.fetch(
        """
        DELETE FROM parked_event WHERE organisation_id = $1
        RETURNING event_id, event_type, data::text, parked_at
        """,
        organisation_id,
    )
    ordered = sorted(rows, key=lambda row: (row["parked_at"], row["event_id"]))
    return [(row["event_id"], row["event_type"], row["data"]) for row in ordered]


async def organisations(connection: Connection) -> list[KnownOrganisation]:
    """Every organisation known here (announcements go to all of them)."""
    ids = await connection.fetch("SELECT id FROM recipient_organisation ORDER BY legal_name, id")
    found = [await organisation(connection, row["id"]) for row in ids]
    return [o for o in found if o is not None]
