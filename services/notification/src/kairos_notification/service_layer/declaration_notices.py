"""The e-mails the declaration service's events call for (K23): a declaration accepted after
its deadline is told to whoever declared it (once: corrections are not)."""

from __future__ import annotations

from typing import Any

from kairos_notification.domain.notifications import NotificationKind as Kind
from kairos_notification.service_layer.notices import (
    Notice,
    builds,
    known_organisation,
    notice_for,
    person,
)
from kairos_schemas import declaration as events
from kairos_shared.db import Connection


@builds(*events.DECLARATIONS)
async def _late(connection: Connection, event: Any) -> list[Notice]:
    if not event.late or event.version != 1:
        return []
    organisation = await known_organisation(connection, event.organisation_id)
    declarer = await person(connection, event.declared_by)
    if organisation is None or declarer is None:
        return []
    return [
        notice_for(
            organisation,
            Kind.DECLARATION_LATE,
            declarer,
            declaration_kind=event.kind,
            action_number=event.session.action_number,
            session_number=event.session.session_number,
            due_on=event.due_by,
            declared_at=event.declared_at,
        )
    ]
