"""The e-mails the identity service's events call for (K23): adhesions, organisation access,
accounts and their deadlines (K2, K3, K6, K11)."""

from __future__ import annotations

import uuid
from typing import Any

from kairos_notification.adapters.recipients import Recipient
from kairos_notification.domain.notifications import NotificationKind as Kind
from kairos_notification.service_layer.notices import (
    Notice,
    builds,
    head_and_rgc,
    known_organisation,
    notice_for,
    person,
)
from kairos_schemas import identity as identity_events
from kairos_shared.db import Connection


@builds(identity_events.AdhesionValidated)
async def _adhesion_validated(connection: Connection, event: Any) -> list[Notice]:
    organisation = await known_organisation(connection, event.organisation_id)
    if organisation is None:
        return []
    rgc = event.rgc
    return [
        notice_for(
            organisation,
            Kind.ADHESION_VALIDATED,
            who,
            siret=event.siret,
            validated_at=event.validated_at,
            access_expires_at=event.access_expires_at,
            rgc_name=f"{rgc.first_name} {rgc.last_name}",
        )
        for who in [organisation.head, Recipient(rgc.email, rgc.first_name, rgc.last_name)]
    ]


@builds(identity_events.AdhesionRejected, identity_events.AdhesionRequestExpired)
async def _adhesion_request_closed(connection: Connection, event: Any) -> list[Notice]:
    """The head who asked is told the request was rejected or expired, and that the SIRET may
    apply again (K1). The organisation was never validated, so never known here: the event
    carries what the e-mail needs."""
    del connection  # nothing to look up
    head = event.head
    who = Recipient(head.email, head.first_name, head.last_name)
    variables: dict[str, Any] = {
        "recipient_name": who.name, "organisation_name": event.legal_name, "zone": event.zone,
        "siret": event.siret,
    }  # fmt: skip
    if isinstance(event, identity_events.AdhesionRejected):
        kind = Kind.ADHESION_REJECTED
        variables |= {"reason": event.reason, "rejected_at": event.rejected_at}
    else:
        kind = Kind.ADHESION_REQUEST_EXPIRED
        variables |= {"requested_at": event.requested_at, "expired_at": event.expired_at}
    return [Notice(kind, who, uuid.UUID(event.organisation_id), variables)]


@builds(
    identity_events.AdhesionExpiring,
    identity_events.AdhesionExpired,
    identity_events.AdhesionRenewed,
    identity_events.OrganisationSuspended,
    identity_events.OrganisationWithdrawn,
    identity_events.OrganisationReinstated,
)
async def _organisation_access(connection: Connection, event: Any) -> list[Notice]:
    organisation = await known_organisation(connection, event.organisation_id)
    if organisation is None:
        return []
    kind, values = _access_values(event)
    return [
        notice_for(organisation, kind, who, **values)
        for who in await head_and_rgc(connection, organisation)
    ]


def _access_values(event: Any) -> tuple[Kind, dict[str, Any]]:
    match event:
        case identity_events.AdhesionExpiring():
            return Kind.ADHESION_EXPIRING, {
                "access_expires_at": event.access_expires_at,
                "days_left": event.days_before,
            }
        case identity_events.AdhesionExpired():
            return Kind.ADHESION_EXPIRED, {"expired_at": event.expired_at}
        case identity_events.AdhesionRenewed():
            return Kind.ADHESION_RENEWED, {
                "renewed_at": event.renewed_at,
                "access_expires_at": event.access_expires_at,
            }
        case identity_events.OrganisationSuspended():
            return Kind.ORGANISATION_SUSPENDED, {
                "reason": event.reason,
                "suspended_at": event.suspended_at,
            }
        case identity_events.OrganisationWithdrawn():
            return Kind.ORGANISATION_WITHDRAWN, {
                "reason": event.reason,
                "withdrawn_at": event.withdrawn_at,
            }
    return Kind.ORGANISATION_REINSTATED, {"reinstated_at": event.reinstated_at}


@builds(identity_events.AccountCreated)
async def _account_created(connection: Connection, event: Any) -> list[Notice]:
    if event.role == "operator":
        return []
    organisation = await known_organisation(connection, event.organisation_id)
    if organisation is None:
        return []
    who = Recipient(
        event.person.email,
        event.person.first_name,
        event.person.last_name,
        uuid.UUID(event.account_id),
    )
    kind = Kind.RGC_ACCOUNT_CREATED if event.role == "rgc" else Kind.ACCOUNT_CREATED
    if event.role == "head" and event.rgc_designation_id is not None:
        kind = Kind.HEAD_ACCOUNT_OPENED  # opened by an operator: nobody could act (K10)
    return [notice_for(organisation, kind, who, provisional_until=event.provisional_until)]


@builds(
    identity_events.ProvisionalAccessReminder,
    identity_events.AccountLapsed,
    identity_events.RgcAccountLapsed,
)
async def _account_deadline(connection: Connection, event: Any) -> list[Notice]:
    organisation = await known_organisation(connection, event.organisation_id)
    who = await person(connection, event.account_id)
    if organisation is None or who is None:
        return []
    match event:
        case identity_events.ProvisionalAccessReminder():
            return [
                notice_for(
                    organisation,
                    Kind.PROVISIONAL_ACCESS_REMINDER,
                    who,
                    role=event.role,
                    provisional_until=event.provisional_until,
                    days_left=event.days_left,
                )
            ]
        case identity_events.AccountLapsed():
            return [notice_for(organisation, Kind.ACCOUNT_LAPSED, who, lapsed_at=event.lapsed_at)]
    return [notice_for(organisation, Kind.RGC_ACCOUNT_LAPSED, who, lapsed_at=event.lapsed_at)]


@builds(identity_events.AccountFlaggedCompromised)
async def _account_compromised(connection: Connection, event: Any) -> list[Notice]:
    """The holder is told the sessions were closed and a new password is asked (K7)."""
    organisation = await known_organisation(connection, event.organisation_id)
    who = await person(connection, event.account_id)
    if who is None:
        return []
    zone = organisation.zone if organisation is not None else "metropolitan"
    variables = {"recipient_name": who.name, "zone": zone, "flagged_at": event.flagged_at}
    organisation_id = organisation.id if organisation is not None else None
    return [Notice(Kind.ACCOUNT_COMPROMISED, who, organisation_id, variables)]
