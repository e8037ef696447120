"""What the rules of who is told of what are made of: a `Notice` (one e-mail to write), the
registry of builders by event class, and the recipients an organisation's e-mails go to (its
head and whoever holds the RGC's rights: the RGC in office, else the head, K10)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from kairos_notification.adapters import recipients
from kairos_notification.adapters.recipients import KnownOrganisation, Recipient
from kairos_notification.domain.notifications import NotificationKind as Kind
from kairos_schemas import Event
from kairos_shared.db import Connection


@dataclass(frozen=True)
class Notice:
    """One e-mail to write: its kind, its recipient, its variables."""

    kind: Kind
    recipient: Recipient
    organisation_id: uuid.UUID | None
    variables: dict[str, Any]


Builder = Callable[[Connection, Any], Awaitable[list[Notice]]]
BUILDERS: dict[type[Event], Builder] = {}


def builds(*event_classes: type[Event]) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        for event_class in event_classes:
            BUILDERS[event_class] = builder
        return builder

    return register


def notice_for(
    organisation: KnownOrganisation, kind: Kind, who: Recipient, **values: Any
) -> Notice:
    variables = {
        "recipient_name": who.name,
        "organisation_name": organisation.legal_name,
        "zone": organisation.zone,
        **values,
    }
    return Notice(kind, who, organisation.id, variables)


class OrganisationNotKnownYetError(LookupError):
    """The event is about an organisation whose AdhesionValidated has not arrived yet."""

    def __init__(self, organisation_id: uuid.UUID) -> None:
        super().__init__(f"organisation {organisation_id} is not known here yet")
        self.organisation_id = organisation_id


async def known_organisation(
    connection: Connection, organisation_id: str | None
) -> KnownOrganisation | None:
    """The organisation an event is about (None when it is about none); raises
    OrganisationNotKnownYetError when it is not known here yet (the event waits for it)."""
    if organisation_id is None:
        return None
    found = await recipients.organisation(connection, uuid.UUID(organisation_id))
    if found is None:
        raise OrganisationNotKnownYetError(uuid.UUID(organisation_id))
    return found


async def head_and_rgc(connection: Connection, organisation: KnownOrganisation) -> list[Recipient]:
    """The head and the holder of the RGC's rights, once each (the head while it is vacant)."""
    holder = await recipients.rgc_rights_holder(connection, organisation)
    people = [organisation.head] + ([holder] if holder is not None else [])
    unique = {person.email.lower(): person for person in people}
    return list(unique.values())


async def person(connection: Connection, account_id: str) -> Recipient | None:
    return await recipients.person(connection, uuid.UUID(account_id))
