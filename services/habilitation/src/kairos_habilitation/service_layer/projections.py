"""This service's view of the identity service's events (K9, K17: no synchronous call):
organisations and their access status, accounts and their sessions, and what follows here —
a habilitation activated by its account, an RGC taking office or lapsing (K10, K11)."""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog

from kairos_habilitation.adapters import accounts, organisations
from kairos_habilitation.adapters.organisations import Organisation
from kairos_habilitation.domain.rgc_post import (
    VacancyReason,
    head_account_closed,
    head_account_opened,
    vacant_post,
)
from kairos_habilitation.service_layer import habilitations, rgc
from kairos_schemas import identity as events
from kairos_shared.db import Connection

log = structlog.get_logger(__name__)


async def adhesion_validated(connection: Connection, event: events.AdhesionValidated) -> None:
    """A validated organisation: its access is active and its RGC in office (K2, K10) — or the
    post vacant at once when the RGC's account already lapsed (events of other keys may come
    first)."""
    organisation_id = uuid.UUID(event.organisation_id)
    head = event.head
    organisation = Organisation(
        id=organisation_id, legal_name=event.legal_name, zone=event.zone,
        head_first_name=head.first_name, head_last_name=head.last_name,
        head_function=head.function, head_email=head.email, status="active",
        validated_at=event.validated_at, status_changed_at=event.validated_at, siret=event.siret,
    )  # fmt: skip
    if not await organisations.insert_if_new(connection, organisation):
        return
    # The head is also the RGC (K1): one account holds both roles, the head's from the start.
    head_account = event.rgc_account_id if event.head_is_rgc else None
    post = vacant_post(event.organisation_id, event.validated_at, head_account)
    await organisations.save_post(connection, post)
    held = await rgc.take_office(connection, post, event.rgc_account_id, event.validated_at)
    account = await accounts.get(connection, uuid.UUID(event.rgc_account_id))
    if account is not None and account.status == "lapsed":
        await rgc.vacate(
            connection, held, VacancyReason.PROVISIONAL_ACCOUNT_LAPSED, event.validated_at, by=None
        )


async def organisation_status_changed(
    connection: Connection, organisation_id: str, status: str, at: datetime
) -> None:
    """Suspended, withdrawn or expired: every habilitation of the organisation stops working
    here (its people are refused); reinstated or renewed: those that were active work again
    (K2, K3). Nothing is ended, so nothing needs restoring."""
    previous = await organisations.set_status(connection, uuid.UUID(organisation_id), status, at=at)
    if previous is None:
        log.warning("status of an organisation never validated", organisation=organisation_id)


async def account_created(
    connection: Connection, event: events.AccountCreated, now: datetime
) -> None:
    account_id = uuid.UUID(event.account_id)
    organisation_id = None if event.organisation_id is None else uuid.UUID(event.organisation_id)
    await accounts.created(connection, account_id, organisation_id, event.role, now)
    if event.habilitation_id is not None:
        await habilitations.account_opened(
            connection, uuid.UUID(event.habilitation_id), account_id, now
        )
    if event.rgc_designation_id is not None and organisation_id is not None:
        await _designated_rgc_account(
            connection, organisation_id, uuid.UUID(event.rgc_designation_id), account_id, now
        )


async def _designated_rgc_account(
    connection: Connection,
    organisation_id: uuid.UUID,
    designation_id: uuid.UUID,
    account_id: uuid.UUID,
    now: datetime,
) -> None:
    """A validated designation's account exists: the head's account holds the RGC's rights
    while the post is vacant; a new RGC takes office, unless a later designation was validated
    since or the post was filled meanwhile."""
    designation = await organisations.designation_account_opened(
        connection, designation_id, account_id, now
    )
    post = await organisations.post(connection, organisation_id, for_update=True)
    if designation is None or post is None:
        log.warning("designated account of an unknown designation", designation=str(designation_id))
        return
    if designation.account_role == "head":
        await organisations.save_post(connection, head_account_opened(post, str(account_id)))
        return
    latest = await organisations.latest_designation_id(connection, organisation_id)
    if latest != designation_id or not post.is_vacant:
        log.warning("designated RGC account does not take office", designation=str(designation_id))
        return
    await rgc.take_office(connection, post, str(account_id), now, str(designation_id))


async def rgc_account_lapsed(connection: Connection, event: events.RgcAccountLapsed) -> None:
    """The RGC never replaced the provisional password within 21 days (K6): the post falls
    vacant and the head holds the RGC's rights (K10)."""
    account_id = uuid.UUID(event.account_id)
    await accounts.set_status(connection, account_id, "lapsed")
    if event.organisation_id is None:
        return
    post = await organisations.post(connection, uuid.UUID(event.organisation_id), for_update=True)
    if post is not None and post.rgc_account_id == event.account_id:
        vacant = await rgc.vacate(
            connection, post, VacancyReason.PROVISIONAL_ACCOUNT_LAPSED, event.lapsed_at, by=None
        )
        if vacant.head_account_id == event.account_id:  # the head was also the RGC (K1)
            await organisations.save_post(connection, head_account_closed(vacant))
