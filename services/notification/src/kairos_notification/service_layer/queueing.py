"""From an event to queued e-mails (K23, K24), in the consumer's inbox transaction: the
directory learns what the event says, the rules say who is told, each e-mail is written in
French and queued once per (event, kind, recipient) — a redelivered event queues nothing more.
An event about an organisation not known yet (its AdhesionValidated, on another key, has not
arrived) is kept and written once the organisation is known."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from kairos_notification.adapters import notifications, recipients
from kairos_notification.adapters.notifications import Notification
from kairos_notification.domain.notifications import NotificationKind, RenderedEmail
from kairos_notification.service_layer import directory, triggers
from kairos_notification.service_layer.notices import OrganisationNotKnownYetError
from kairos_schemas import Event
from kairos_schemas import identity as identity_events
from kairos_schemas.events import REGISTRY
from kairos_shared.db import Connection
from kairos_shared.inbox import Delivery


class Renderer(Protocol):
    def render(self, kind: NotificationKind, variables: dict[str, object]) -> RenderedEmail: ...


async def on_event(
    connection: Connection,
    renderer: Renderer,
    event: Event,
    delivery: Delivery,
    now: datetime,
    *,
    operators_mailbox: str | None = None,
) -> int:
    """Apply `event` to the directory, then queue the e-mails it calls for (the operators'
    mailbox's too, when given); how many."""
    await directory.learn(connection, event)
    trigger = (delivery.cloudevent.id, delivery.cloudevent.type)
    queued = await _queue_or_park(
        connection, renderer, event, trigger, now, operators_mailbox=operators_mailbox
    )
    if isinstance(event, identity_events.AdhesionValidated):
        organisation_id = uuid.UUID(event.organisation_id)
        for event_id, event_type, data in await recipients.unpark(connection, organisation_id):
            parked = REGISTRY.event_class(event_type).model_validate_json(data)
            queued += await _queue_or_park(
                connection, renderer, parked, (event_id, event_type), now,
                operators_mailbox=operators_mailbox,
            )  # fmt: skip
    return queued


async def _queue_or_park(
    connection: Connection,
    renderer: Renderer,
    event: Event,
    trigger: tuple[str, str],
    now: datetime,
    *,
    operators_mailbox: str | None = None,
) -> int:
    try:
        notices = await triggers.notices(connection, event, operators_mailbox)
    except OrganisationNotKnownYetError as unknown:
        data = event.model_dump_json()
        await recipients.park(connection, trigger, unknown.organisation_id, data, now)
        return 0
    return await queue(connection, renderer, notices, trigger, now)


async def queue(
    connection: Connection,
    renderer: Renderer,
    notices: list[triggers.Notice],
    trigger: tuple[str, str],
    now: datetime,
) -> int:
    """Write and queue each notice, once per (trigger, kind, recipient); how many were new."""
    queued = 0
    for notice in notices:
        email = renderer.render(notice.kind, notice.variables)
        queued += await notifications.insert(connection, Notification(
            id=uuid.uuid4(), trigger_event_id=trigger[0], trigger_event_type=trigger[1],
            kind=notice.kind.value, organisation_id=notice.organisation_id,
            recipient_email=notice.recipient.email, recipient_name=notice.recipient.name,
            recipient_account_id=notice.recipient.account_id, subject=email.subject,
            text_body=email.text, html_body=email.html, created_at=now, next_attempt_at=now,
        ))  # fmt: skip
    return queued
