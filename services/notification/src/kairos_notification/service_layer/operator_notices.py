"""The e-mails of the operators' mailbox that events call for (K14): once per closed review
campaign whose default flagged habilitations to the operators, the list of them, so that an
operator answers them (a demand, K15). The RGC is told by the review's own e-mail."""

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
