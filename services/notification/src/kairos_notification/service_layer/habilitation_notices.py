"""The e-mails the habilitation service's events call for (K23): habilitations granted, ended
and suspended; the RGC post vacant with the head in charge, or filled; the annual review;
operators' demands (K10-K15)."""

from __future__ import annotations

import uuid
from typing import Any

from kairos_notification.adapters import recipients
from kairos_notification.domain.notifications import NotificationKind as Kind
from kairos_notification.service_layer.notices import (
    Notice,
    builds,
    known_organisation,
    notice_for,
    person,
)
from kairos_schemas import habilitation as events
from kairos_shared.db import Connection


@builds(events.HabilitationActivated, events.HabilitationEnded, events.HabilitationSuspended)
async def _habilitation(connection: Connection, event: Any) -> list[Notice]:
    """The holder is told their habilitation opened, ended or was suspended."""
    organisation = await known_organisation(connection, event.organisation_id)
    holder = await recipients.habilitated(connection, uuid.UUID(event.habilitation_id))
    if organisation is None or holder is None:
        return []
    who = holder.person
    match event:
        case events.HabilitationActivated():
            return [
                notice_for(
                    organisation,
                    Kind.HABILITATION_GRANTED,
                    who,
                    function=holder.function,
                    authorisation_signed_by=holder.signed_by,
                    authorisation_signed_on=holder.signed_on,
                    granted_at=event.activated_at,
                )
            ]
        case events.HabilitationEnded():
            return [
                notice_for(
                    organisation,
                    Kind.HABILITATION_ENDED,
                    who,
                    end_reason=event.reason,
                    ended_at=event.ended_at,
                )
            ]
    return [
        notice_for(organisation, Kind.HABILITATION_SUSPENDED, who, suspended_at=event.suspended_at)
    ]


@builds(events.RgcPostVacated)
async def _rgc_post_vacated(connection: Connection, event: Any) -> list[Notice]:
    """The head is told it now holds the RGC's rights (K10)."""
    organisation = await known_organisation(connection, event.organisation_id)
    if organisation is None:
        return []
    return [
        notice_for(
            organisation,
            Kind.RGC_POST_VACANT_HEAD_IN_CHARGE,
            organisation.head,
            vacancy_reason=event.reason,
            vacated_at=event.vacated_at,
            head_has_account=event.head_account_id is not None,
        )
    ]


@builds(events.RgcDesignationRequested)
async def _rgc_designation_requested(connection: Connection, event: Any) -> list[Notice]:
    """A request made without an account, in the head's name: the head the adhesion declared
    is told, to report it if it was not theirs (K10). The head's own requests are not."""
    organisation = await known_organisation(connection, event.organisation_id)
    if organisation is None or event.requested_by is not None:
        return []
    named = f"{event.person.first_name} {event.person.last_name}"
    return [
        notice_for(
            organisation,
            Kind.RGC_DESIGNATION_REQUESTED,
            organisation.head,
            rgc_name=named,
            role=event.account_role,
            requested_at=event.requested_at,
        )
    ]


@builds(events.RgcDesignationRejected)
async def _rgc_designation_rejected(connection: Connection, event: Any) -> list[Notice]:
    """The head is told the operator's reason, and how to request again (K10)."""
    organisation = await known_organisation(connection, event.organisation_id)
    if organisation is None:
        return []
    named = f"{event.person.first_name} {event.person.last_name}"
    return [
        notice_for(
            organisation,
            Kind.RGC_DESIGNATION_REJECTED,
            organisation.head,
            rgc_name=named,
            role=event.account_role,
            reason=event.reason,
            rejected_at=event.rejected_at,
        )
    ]


@builds(events.RgcTookOffice)
async def _rgc_took_office(connection: Connection, event: Any) -> list[Notice]:
    """The head is told who the RGC now is (not when the adhesion's RGC first takes office:
    the adhesion's e-mail said so)."""
    organisation = await known_organisation(connection, event.organisation_id)
    rgc = await person(connection, event.rgc_account_id)
    if organisation is None or rgc is None or event.rgc_designation_id is None:
        return []
    return [
        notice_for(
            organisation,
            Kind.RGC_TOOK_OFFICE,
            organisation.head,
            rgc_name=rgc.name,
            took_office_at=event.since,
        )
    ]


@builds(
    events.ReviewCampaignOpened,
    events.ReviewReminder,
    events.ReviewCampaignClosed,
    events.OperatorDemandIssued,
)
async def _to_the_rgc(connection: Connection, event: Any) -> list[Notice]:
    """The holder of the RGC's rights is told of the review and of operators' demands."""
    organisation = await known_organisation(connection, event.organisation_id)
    if organisation is None:
        return []
    holder = await recipients.rgc_rights_holder(connection, organisation)
    if holder is None:
        return []
    kind, values = _rgc_values(event)
    return [notice_for(organisation, kind, holder, **values)]


def _rgc_values(event: Any) -> tuple[Kind, dict[str, Any]]:
    match event:
        case events.ReviewCampaignOpened():
            return Kind.REVIEW_OPENED, {
                "year": event.year,
                "deadline_at": event.deadline,
                "habilitation_count": len(event.habilitation_ids),
            }
        case events.ReviewReminder():
            return Kind.REVIEW_REMINDER, {
                "deadline_at": event.deadline,
                "days_left": event.days_before,
                "undecided_count": event.undecided,
            }
        case events.ReviewCampaignClosed():
            return Kind.REVIEW_OVERDUE, {
                "closed_at": event.closed_at,
                "default_applied": event.default_applied,
                "undecided_count": len(event.undecided),
            }
    return Kind.OPERATOR_DEMAND, {
        "demand_kind": event.kind,
        "reason": event.reason,
        "habilitation_count": len(event.habilitation_ids),
        "deadline_at": event.deadline,
    }
