"""This service's view of who may declare for which organisation (asyncpg): organisations and
their access, habilitations, RGC terms, lapsed accounts and ended login sessions, as the
identity and habilitation events describe them (K17, K9).

Every write is one ``INSERT … ON CONFLICT DO UPDATE`` merging a fact into its row: first
instants are kept with ``least()`` (which ignores NULL), latest states by their event's time,
so the row ends the same whatever order events arrive in and however often one is applied.
No credential ever reaches this service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from kairos_declaration.domain.access import (
    DeclarerFacts,
    OrganisationAccess,
    OrganisationStatus,
    habilitation_state,
    rgc_tenure,
)
from kairos_shared.db import Connection
from kairos_shared.zones import Zone


@dataclass(frozen=True)
class OrganisationFact:
    """What one identity event says of an organisation: its status from `at` on, and, from
    `AdhesionValidated`, its zone; access periods end at `access_expires_at`."""

    organisation_id: uuid.UUID
    status: OrganisationStatus
    at: datetime
    zone: Zone | None = None
    validated_at: datetime | None = None
    access_expires_at: datetime | None = None


async def merge_organisation(connection: Connection, fact: OrganisationFact) -> None:
    """The latest status wins (on a tie, the later arrival); a withdrawal is final (K3)."""
    await connection.execute(
        """
        INSERT INTO organisation_access AS o (organisation_id, zone, validated_at,
                                              access_expires_at, status, status_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (organisation_id) DO UPDATE SET
            zone = coalesce(EXCLUDED.zone, o.zone),
            validated_at = least(o.validated_at, EXCLUDED.validated_at),
            access_expires_at = greatest(o.access_expires_at, EXCLUDED.access_expires_at),
            status = CASE
                WHEN 'withdrawn' IN (o.status, EXCLUDED.status) THEN 'withdrawn'
                WHEN EXCLUDED.status_at >= o.status_at THEN EXCLUDED.status
                ELSE o.status
            END,
            status_at = greatest(o.status_at, EXCLUDED.status_at)
        """,
        fact.organisation_id, None if fact.zone is None else fact.zone.value, fact.validated_at,
        fact.access_expires_at, fact.status.value, fact.at,
    )  # fmt: skip


@dataclass(frozen=True)
class HabilitationFact:
    """What one habilitation event says: whose it is, when it was activated, suspended or
    reinstated (`suspended` at `suspension_changed_at`), or ended."""

    habilitation_id: uuid.UUID
    organisation_id: uuid.UUID
    account_id: uuid.UUID | None = None
    activated_at: datetime | None = None
    suspended: bool | None = None
    suspension_changed_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None


async def merge_habilitation(connection: Connection, fact: HabilitationFact) -> None:
    await connection.execute(
        """
        INSERT INTO declarer_habilitation AS h (habilitation_id, organisation_id, account_id,
            activated_at, suspended, suspension_changed_at, ended_at, end_reason)
        VALUES ($1, $2, $3, $4, coalesce($5::boolean, false), $6, $7, $8)
        ON CONFLICT (habilitation_id) DO UPDATE SET
            account_id = coalesce(h.account_id, EXCLUDED.account_id),
            activated_at = least(h.activated_at, EXCLUDED.activated_at),
            suspended = CASE
                WHEN EXCLUDED.suspension_changed_at >= coalesce(h.suspension_changed_at,
                                                                '-infinity')
                    THEN EXCLUDED.suspended
                ELSE h.suspended
            END,
            suspension_changed_at = greatest(h.suspension_changed_at,
                                             EXCLUDED.suspension_changed_at),
            ended_at = least(h.ended_at, EXCLUDED.ended_at),
            end_reason = CASE
                WHEN h.ended_at IS NULL OR EXCLUDED.ended_at < h.ended_at
                    THEN coalesce(EXCLUDED.end_reason, h.end_reason)
                ELSE h.end_reason
            END
        """,
        fact.habilitation_id, fact.organisation_id, fact.account_id, fact.activated_at,
        fact.suspended, fact.suspension_changed_at, fact.ended_at, fact.end_reason,
    )  # fmt: skip


async def merge_rgc_term(
    connection: Connection,
    organisation_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    took_office_at: datetime | None = None,
    vacated_at: datetime | None = None,
) -> None:
    await connection.execute(
        """
        INSERT INTO rgc_term AS t (account_id, organisation_id, took_office_at, vacated_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (account_id, organisation_id) DO UPDATE SET
            took_office_at = least(t.took_office_at, EXCLUDED.took_office_at),
            vacated_at = least(t.vacated_at, EXCLUDED.vacated_at)
        """,
        account_id, organisation_id, took_office_at, vacated_at,
    )  # fmt: skip


async def account_lapsed(connection: Connection, account_id: uuid.UUID, at: datetime) -> None:
    """The account's provisional credentials lapsed at `at` (K6); its latest lapse is kept."""
    await connection.execute(
        """
        INSERT INTO lapsed_account (account_id, lapsed_at) VALUES ($1, $2)
        ON CONFLICT (account_id) DO UPDATE SET
            lapsed_at = greatest(lapsed_account.lapsed_at, EXCLUDED.lapsed_at)
        """,
        account_id, at,
    )  # fmt: skip


async def credentials_reissued(connection: Connection, account_id: uuid.UUID, at: datetime) -> None:
    """New credentials were issued at `at` for a lapsed account (K6): a lapse before it no
    longer counts (the latest reissue is kept; it may arrive before the lapse it lifts)."""
    await connection.execute(
        """
        INSERT INTO lapsed_account (account_id, lapsed_at, reissued_at) VALUES ($1, $2, $2)
        ON CONFLICT (account_id) DO UPDATE SET
            reissued_at = greatest(lapsed_account.reissued_at, EXCLUDED.reissued_at)
        """,
        account_id, at,
    )  # fmt: skip


async def session_ended(
    connection: Connection, session_id: uuid.UUID, account_id: uuid.UUID, at: datetime
) -> None:
    await connection.execute(
        """
        INSERT INTO ended_login_session (session_id, account_id, ended_at) VALUES ($1, $2, $3)
        ON CONFLICT (session_id) DO NOTHING
        """,
        session_id, account_id, at,
    )  # fmt: skip


async def prune_ended_sessions(connection: Connection, before: datetime) -> int:
    """Forget login sessions ended before `before` (their tokens have all expired since)."""
    result = await connection.execute("DELETE FROM ended_login_session WHERE ended_at < $1", before)
    return int(result.split()[-1])


async def caller_refusals(
    connection: Connection, session_id: uuid.UUID, account_id: uuid.UUID
) -> tuple[bool, bool]:
    """(the login session ended, the account lapsed), in one round trip: every request asks."""
    row = await connection.fetchrow(
        """
        SELECT EXISTS (SELECT FROM ended_login_session WHERE session_id = $1) AS ended,
               EXISTS (SELECT FROM lapsed_account WHERE account_id = $2
                       AND lapsed_at > coalesce(reissued_at, '-infinity')) AS lapsed
        """,
        session_id, account_id,
    )  # fmt: skip
    assert row is not None
    return bool(row["ended"]), bool(row["lapsed"])


async def organisation(
    connection: Connection, organisation_id: uuid.UUID
) -> OrganisationAccess | None:
    """The organisation, once its validated adhesion is known here."""
    row = await connection.fetchrow(
        """
        SELECT zone, status, access_expires_at FROM organisation_access
        WHERE organisation_id = $1 AND zone IS NOT NULL
        """,
        organisation_id,
    )
    if row is None:
        return None
    return OrganisationAccess(
        Zone(row["zone"]), OrganisationStatus(row["status"]), row["access_expires_at"]
    )


async def declarer_facts(
    connection: Connection, account_id: uuid.UUID, organisation_id: uuid.UUID
) -> DeclarerFacts:
    """Everything the rule of K17 looks at, for one account and one organisation, in one round
    trip (every declaration asks): the organisation, the account's habilitations in it (as
    parallel arrays, empty when none) and its RGC term."""
    row = await connection.fetchrow(
        """
        SELECT o.zone, o.status, o.access_expires_at, t.took_office, t.vacated,
               h.ids, h.activated, h.suspended, h.ended
        FROM (SELECT) AS one
        LEFT JOIN organisation_access o ON o.organisation_id = $2 AND o.zone IS NOT NULL
        LEFT JOIN LATERAL (
            SELECT took_office_at IS NOT NULL AS took_office, vacated_at IS NOT NULL AS vacated
            FROM rgc_term WHERE account_id = $1 AND organisation_id = $2
        ) t ON true
        CROSS JOIN LATERAL (
            SELECT array_agg(habilitation_id) AS ids,
                   array_agg(activated_at IS NOT NULL) AS activated,
                   array_agg(suspended) AS suspended, array_agg(ended_at IS NOT NULL) AS ended
            FROM declarer_habilitation WHERE account_id = $1 AND organisation_id = $2
        ) h
        """,
        account_id, organisation_id,
    )  # fmt: skip
    assert row is not None
    organisation = (
        None
        if row["zone"] is None
        else OrganisationAccess(
            Zone(row["zone"]), OrganisationStatus(row["status"]), row["access_expires_at"]
        )
    )
    states = zip(
        row["ids"] or (), row["activated"] or (), row["suspended"] or (), row["ended"] or (),
        strict=True,
    )  # fmt: skip
    return DeclarerFacts(
        organisation=organisation,
        habilitations=tuple(
            (
                str(habilitation_id),
                habilitation_state(activated=activated, suspended=suspended, ended=ended),
            )
            for habilitation_id, activated, suspended, ended in states
        ),
        rgc=(
            None
            if row["took_office"] is None
            else rgc_tenure(took_office=row["took_office"], vacated=row["vacated"])
        ),
    )
