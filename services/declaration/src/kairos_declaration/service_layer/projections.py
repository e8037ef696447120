"""This service's view of the identity and habilitation events that decide who may declare
(K17, K9, K3, K10-K14): each event becomes one fact merged into its own row, dated by the
event's own time, so the view is the same whatever the order of arrival across keys and
however often an event is delivered (see :mod:`kairos_declaration.adapters.access_view`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from kairos_declaration.adapters import access_view
from kairos_declaration.adapters.access_view import HabilitationFact, OrganisationFact
from kairos_declaration.domain.access import OrganisationStatus
from kairos_schemas import habilitation as habilitation_events
from kairos_schemas import identity as identity_events
from kairos_shared.db import Connection
from kairos_shared.inbox import RejectedEventError
from kairos_shared.zones import Zone


def identifier(value: str) -> uuid.UUID:
    """An event's identifier; one that is not a UUID can never be applied (dead letter)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise RejectedEventError(f"not an identifier: {value!r}") from None


async def adhesion_validated(
    connection: Connection, event: identity_events.AdhesionValidated
) -> None:
    """The organisation is known, its access active (K2), and the adhesion's RGC in office
    (K10) — unless a later event of either said otherwise."""
    organisation_id = identifier(event.organisation_id)
    await access_view.merge_organisation(
        connection,
        OrganisationFact(
            organisation_id, OrganisationStatus.ACTIVE, event.validated_at, zone=Zone(event.zone),
            validated_at=event.validated_at, access_expires_at=event.access_expires_at,
        ),
    )  # fmt: skip
    await access_view.merge_rgc_term(
        connection,
        organisation_id,
        identifier(event.rgc_account_id),
        took_office_at=event.validated_at,
    )


async def organisation_status(
    connection: Connection,
    organisation_id: str,
    status: OrganisationStatus,
    at: datetime,
    access_expires_at: datetime | None = None,
) -> None:
    """Suspended, withdrawn, expired (its people are refused), reinstated or renewed (they
    may declare again): nothing is ended, so nothing needs restoring (K2, K3)."""
    fact = OrganisationFact(
        identifier(organisation_id), status, at, access_expires_at=access_expires_at
    )
    await access_view.merge_organisation(connection, fact)


async def habilitation_activated(
    connection: Connection, event: habilitation_events.HabilitationActivated
) -> None:
    await access_view.merge_habilitation(
        connection,
        HabilitationFact(
            identifier(event.habilitation_id), identifier(event.organisation_id),
            account_id=identifier(event.account_id), activated_at=event.activated_at,
        ),
    )  # fmt: skip


def _account(account_id: str | None) -> uuid.UUID | None:
    return None if account_id is None else identifier(account_id)


async def habilitation_ended(
    connection: Connection, event: habilitation_events.HabilitationEnded
) -> None:
    await access_view.merge_habilitation(
        connection,
        HabilitationFact(
            identifier(event.habilitation_id), identifier(event.organisation_id),
            account_id=_account(event.account_id), ended_at=event.ended_at,
            end_reason=event.reason,
        ),
    )  # fmt: skip


async def habilitation_suspended(
    connection: Connection, event: habilitation_events.HabilitationSuspended
) -> None:
    await access_view.merge_habilitation(
        connection,
        HabilitationFact(
            identifier(event.habilitation_id), identifier(event.organisation_id),
            account_id=_account(event.account_id), suspended=True,
            suspension_changed_at=event.suspended_at,
        ),
    )  # fmt: skip


async def habilitation_reinstated(
    connection: Connection, event: habilitation_events.HabilitationReinstated
) -> None:
    await access_view.merge_habilitation(
        connection,
        HabilitationFact(
            identifier(event.habilitation_id), identifier(event.organisation_id),
            account_id=_account(event.account_id), suspended=False,
            suspension_changed_at=event.reinstated_at,
        ),
    )  # fmt: skip


async def rgc_took_office(connection: Connection, event: habilitation_events.RgcTookOffice) -> None:
    await access_view.merge_rgc_term(
        connection,
        identifier(event.organisation_id),
        identifier(event.rgc_account_id),
        took_office_at=event.since,
    )


async def rgc_post_vacated(
    connection: Connection, event: habilitation_events.RgcPostVacated
) -> None:
    await access_view.merge_rgc_term(
        connection,
        identifier(event.organisation_id),
        identifier(event.former_rgc_account_id),
        vacated_at=event.vacated_at,
    )


async def account_lapsed(
    connection: Connection,
    event: identity_events.AccountLapsed | identity_events.RgcAccountLapsed,
) -> None:
    await access_view.account_lapsed(connection, identifier(event.account_id), event.lapsed_at)


async def credentials_reissued(
    connection: Connection, event: identity_events.ProvisionalCredentialsReissued
) -> None:
    """The lapsed account got new credentials (K6): it declares again once its holder logs in."""
    await access_view.credentials_reissued(
        connection, identifier(event.account_id), event.reissued_at
    )


async def session_ended(connection: Connection, event: identity_events.SessionEnded) -> None:
    await access_view.session_ended(
        connection, identifier(event.session_id), identifier(event.account_id), event.ended_at
    )
