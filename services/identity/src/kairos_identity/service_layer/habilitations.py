"""What the habilitation service's habilitation events do to accounts, each in the consumer's
inbox transaction and naturally idempotent: a recorded habilitation opens the person's account
(K11, no secret in any event), an ended one disables it (K13), a suspended one refuses its
holder a session until it is reinstated (K14). Sessions end at once, through events (K9)."""

from __future__ import annotations

import uuid

import structlog

from kairos_identity.adapters import habilitation_accounts, organisations
from kairos_identity.adapters.organisations import Contact, OrganisationRecord
from kairos_identity.domain.accounts import Role
from kairos_identity.domain.organisations import OrganisationStatus
from kairos_identity.service_layer.account_opening import create_account
from kairos_identity.service_layer.context import IdentityContext
from kairos_identity.service_layer.sessions import end_sessions
from kairos_schemas import habilitation as habilitation_events
from kairos_shared.db import Connection
from kairos_shared.inbox import RejectedEventError

log = structlog.get_logger(__name__)


async def active_organisation(
    connection: Connection, organisation_id: str, what: str
) -> OrganisationRecord:
    """The organisation `what` opens an account in; an event naming one that is unknown or
    whose access is not active can never apply (dead-lettered)."""
    organisation = await organisations.get(connection, uuid.UUID(organisation_id))
    if organisation is None or organisation.access.status is not OrganisationStatus.ACTIVE:
        status = "unknown" if organisation is None else organisation.access.status.value
        raise RejectedEventError(f"{what}: organisation {organisation_id} is {status}")
    return organisation


async def open_account(
    context: IdentityContext,
    connection: Connection,
    event: habilitation_events.HabilitationRecorded,
) -> None:
    habilitation_id = uuid.UUID(event.habilitation_id)
    if await habilitation_accounts.habilitated_account(connection, habilitation_id):
        log.info("habilitation already has its account", habilitation_id=event.habilitation_id)
        return
    organisation = await active_organisation(
        connection, event.organisation_id, f"habilitation {habilitation_id}"
    )
    person = Contact(event.person.first_name, event.person.last_name, event.person.email)
    await create_account(
        context, connection, person, Role(event.role),
        organisation_id=organisation.id, habilitation_id=habilitation_id, issue_password=False,
    )  # fmt: skip


async def close_account(
    context: IdentityContext,
    connection: Connection,
    event: habilitation_events.HabilitationEnded,
) -> None:
    """The holder of an ended habilitation can no longer log in; their sessions end now (K13,
    K9). An account that never existed (the habilitation ended first) needs nothing."""
    account_id = await habilitation_accounts.disable_for_habilitation(
        connection, uuid.UUID(event.habilitation_id)
    )
    if account_id is not None:
        await end_sessions(
            connection,
            [account_id],
            reason="habilitation_ended",
            now=context.clock.now(),
            organisation_id=event.organisation_id,
        )


async def suspend(
    context: IdentityContext,
    connection: Connection,
    event: habilitation_events.HabilitationSuspended,
) -> None:
    """The holder is refused at login and refresh until the RGC confirms the habilitation
    (K14); their sessions end now (K9). The account keeps its status."""
    account_id = await habilitation_accounts.suspend_habilitation(
        connection, uuid.UUID(event.habilitation_id), event.suspended_at
    )
    if account_id is None:
        log.info("suspended habilitation has no account", habilitation_id=event.habilitation_id)
        return
    await end_sessions(
        connection,
        [account_id],
        reason="habilitation_suspended",
        now=context.clock.now(),
        organisation_id=event.organisation_id,
    )


async def reinstate(
    _context: IdentityContext,
    connection: Connection,
    event: habilitation_events.HabilitationReinstated,
) -> None:
    """The RGC confirmed the habilitation (K14): its holder may log in again."""
    account_id = await habilitation_accounts.reinstate_habilitation(
        connection, uuid.UUID(event.habilitation_id)
    )
    if account_id is None:
        log.info("reinstated habilitation has no account", habilitation_id=event.habilitation_id)
