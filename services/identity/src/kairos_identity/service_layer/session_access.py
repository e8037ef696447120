"""Whether an account may have a session now (login and refresh): operators always; an OF's
people while their organisation's access is active (K2, K3), inside its opening hours (K4), and
while their habilitation is not suspended (K14: the RGC must confirm it first)."""

from __future__ import annotations

import uuid
from datetime import datetime

from kairos_identity.adapters import organisations
from kairos_identity.adapters.accounts import AccountRow
from kairos_identity.domain.organisations import OrganisationStatus
from kairos_identity.service_layer.context import IdentityContext
from kairos_shared.access_hours import refusal
from kairos_shared.db import Connection
from kairos_shared.problems import Problem
from kairos_shared.zones import Zone


async def check_session_allowed(
    context: IdentityContext, connection: Connection, account: AccountRow, now: datetime
) -> None:
    """Raise the problem that refuses `account` a session at `now`, if any."""
    if account.organisation_id is None:
        return
    await _check_organisation_access(context, connection, account, now)
    if account.habilitation_suspended_at is not None:
        raise Problem(
            status=403,
            title="Habilitation suspended",
            detail="this account's habilitation is suspended: the organisation's RGC must "
            "confirm the habilitation before its holder can log in again",
            type="habilitation-suspended",
            extensions={"suspended_at": account.habilitation_suspended_at.isoformat()},
        )


async def _check_organisation_access(
    context: IdentityContext, connection: Connection, account: AccountRow, now: datetime
) -> None:
    assert account.organisation_id is not None
    organisation = await organisations.get(connection, account.organisation_id)
    assert organisation is not None
    status = organisation.access.status
    if status is not OrganisationStatus.ACTIVE:
        raise Problem(
            status=403,
            title="Organisation access not active",
            detail=f"the organisation's access to the platform is {status.value}",
            type="organisation-access-not-active",
            extensions={"organisation_status": status.value},
        )
    decision = context.calendar.decide(now, Zone(organisation.zone))
    if not decision.open:
        raise refusal(decision)


async def check_open(context: IdentityContext, organisation_id: str) -> None:
    """Refuse an OF role's request outside its organisation's opening hours (K4): a token got
    before closing does not outlive the opening hours."""
    async with context.pool.acquire() as connection:
        organisation = await organisations.get(connection, uuid.UUID(organisation_id))
    if organisation is None:
        return
    decision = context.calendar.decide(context.clock.now(), Zone(organisation.zone))
    if not decision.open:
        raise refusal(decision)
