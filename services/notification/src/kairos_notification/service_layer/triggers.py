"""Who is told of what (K23): each event that calls for an e-mail, the people it goes to, and
what the e-mail says — decided from this service's own directory of recipients, never by
asking another service. The rules are in one module per producing service."""

from __future__ import annotations

from kairos_notification.service_layer import (  # noqa: F401 - each module registers its rules
    declaration_notices,
    habilitation_notices,
    identity_notices,
)
from kairos_notification.service_layer.notices import BUILDERS, Notice
from kairos_notification.service_layer.operator_notices import for_operators
from kairos_schemas import Event
from kairos_shared.db import Connection

__all__ = ["Notice", "notices"]


async def notices(
    connection: Connection, event: Event, operators_mailbox: str | None = None
) -> list[Notice]:
    """The e-mails `event` calls for (none for most events), and those of the operators'
    mailbox when it is given."""
    builder = BUILDERS.get(type(event))
    found = [] if builder is None else await builder(connection, event)
    if operators_mailbox is not None:
        found += await for_operators(connection, event, operators_mailbox)
    return found
