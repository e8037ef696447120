"""The e-mails of the operators' mailbox that events call for (K14): once per closed review
campaign whose default flagged habilitations to the operators, the list of them, so that an
operator answers them (a demand, K15). The RGC is told by the review's own e-mail. And each
message a head wrote to France Travail without an account (« Écrire à France Travail »)."""

from __future__ import annotations

import uuid
from typing import Any

from kairos_notification.adapters import recipients
from kairos_notification.adapters.recipients import Recipient
from kairos_notification.domain.notifications import NotificationKind as Kind
from kairos_notification.service_layer.notices import Notice, known_organisation
from kairos_schemas import Event
from kairos_schemas import habilitation as events
from kairos_shared.db import Connection


def operators(mailbox: str) -> Recipient:
    return Recipient(mailbox, "Équipe", "d'exploitation Kairos")


async def for_operators(connection: Connection, event: Event, mailbox: str) -> list[Notice]:
    """The operators' e-mails `event` calls for (none for most events)."""
    if isinstance(event, events.MessageToOperatorsSent):
        return await _message(connection, event, mailbox)
    if not (
        isinstance(event, events.ReviewCampaignClosed)
        and event.default_applied == "flag_to_operator"
        and event.undecided
    ):
        return []
    organisation = await known_organisation(connection, event.organisation_id)
    if organisation is None:
        return []
    flagged: list[dict[str, Any]] = []
    for habilitation_id in event.undecided:
        holder = await recipients.habilitated(connection, uuid.UUID(habilitation_id))
        flagged.append({
            "name": holder.person.name if holder else "(inconnu)",
            "function": holder.function if holder else "",
            "habilitation_id": habilitation_id,
        })  # fmt: skip
    variables = {
        "organisation_name": organisation.legal_name, "zone": organisation.zone,
        "siret": organisation.siret, "organisation_id": str(organisation.id),
        "closed_at": event.closed_at, "flagged_habilitations": flagged,
    }  # fmt: skip
    return [Notice(Kind.REVIEW_FLAGS_TO_OPERATORS, operators(mailbox), organisation.id, variables)]


async def _message(
    connection: Connection, event: events.MessageToOperatorsSent, mailbox: str
) -> list[Notice]:
    """« Écrire à France Travail »: the head's message, forwarded to the operators' mailbox."""
    organisation = await known_organisation(connection, event.organisation_id)
    if organisation is None:
        return []
    sender = event.sender
    variables = {
        "organisation_name": organisation.legal_name, "zone": organisation.zone,
        "siret": organisation.siret, "organisation_id": str(organisation.id),
        "sender_name": f"{sender.first_name} {sender.last_name}", "sender_email": sender.email,
        "sent_at": event.sent_at, "subject": event.subject, "text": event.text,
    }  # fmt: skip
    return [Notice(Kind.MESSAGE_TO_OPERATORS, operators(mailbox), organisation.id, variables)]
