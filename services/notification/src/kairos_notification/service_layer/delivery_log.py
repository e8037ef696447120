"""The delivery log (K24): operators read any recipient's or organisation's e-mails and resend
one; an organisation's RGC (the head while the post is vacant) reads its own organisation's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from kairos_notification.adapters import notifications, recipients
from kairos_notification.adapters.notifications import Cursor, Notification, Page
from kairos_notification.service_layer.context import SOURCE, NotificationContext
from kairos_schemas.notification import NotificationFailed
from kairos_shared import outbox
from kairos_shared.access_hours import AccessCalendar, refusal
from kairos_shared.db import Connection
from kairos_shared.problems import (
    Problem,
    forbidden,
    organisation_being_set_up,
    unauthenticated,
)
from kairos_shared.tokens import AccessClaims
from kairos_shared.zones import Zone


@dataclass(frozen=True)
class Reader:
    account_id: uuid.UUID
    role: str
    organisation_id: uuid.UUID | None

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"


async def reader_of(
    connection: Connection, claims: AccessClaims, calendar: AccessCalendar, now: datetime
) -> Reader:
    """Who reads: a live session past its password change; an OF role only inside its
    organisation's opening hours (K4)."""
    if await recipients.is_session_ended(connection, uuid.UUID(claims.session_id)):
        raise unauthenticated("this session has ended: log in again")
    if claims.password_change_only:
        raise forbidden("provisional credentials only allow changing the password")
    organisation = None if claims.organisation_id is None else uuid.UUID(claims.organisation_id)
    if organisation is not None and claims.role != "operator":
        known = await recipients.organisation(connection, organisation)
        if known is not None:
            decision = calendar.decide(now, Zone(known.zone))
            if not decision.open:
                raise refusal(decision)
    return Reader(uuid.UUID(claims.account_id), claims.role, organisation)


def require_operator(reader: Reader) -> None:
    if not reader.is_operator:
        raise forbidden("this is reserved to France Travail operators", title="Operators only")


async def _may_read_organisation(
    context: NotificationContext, connection: Connection, reader: Reader,
    organisation_id: uuid.UUID,
) -> None:  # fmt: skip
    if reader.is_operator:
        return
    if reader.organisation_id != organisation_id:
        raise forbidden("you may only read your own organisation's e-mails")
    organisation = await recipients.organisation(connection, organisation_id)
    if organisation is None:  # its own, named by its token: the validation is on its way
        raise organisation_being_set_up(organisation_id, context.setup_retry_after_seconds)
    holder = organisation.rgc_account_id or organisation.head_account_id
    if reader.account_id != holder:
        raise forbidden("only the organisation's RGC (or the head while the post is vacant)")


def not_found(notification_id: uuid.UUID) -> Problem:
    return Problem(status=404, title="No such notification", type="not-found",
                   detail=f"no notification {notification_id}")  # fmt: skip


async def of_organisation(
    context: NotificationContext, reader: Reader, organisation_id: uuid.UUID,
    before: Cursor | None, limit: int,
) -> Page:  # fmt: skip
    async with context.pool.acquire() as connection:
        await _may_read_organisation(context, connection, reader, organisation_id)
        return await notifications.of_organisation(
            connection, organisation_id, before=before, limit=limit
        )


async def of_recipient(
    context: NotificationContext, reader: Reader, recipient: uuid.UUID | str,
    before: Cursor | None, limit: int,
) -> Page:  # fmt: skip
    require_operator(reader)
    async with context.pool.acquire() as connection:
        if isinstance(recipient, uuid.UUID):
            return await notifications.of_recipient(
                connection, account_id=recipient, before=before, limit=limit
            )
        return await notifications.of_recipient(
            connection, email=recipient, before=before, limit=limit
        )


async def one(
    context: NotificationContext, reader: Reader, notification_id: uuid.UUID
) -> Notification:
    async with context.pool.acquire() as connection:
        found = await notifications.get(connection, notification_id)
        if found is None:
            raise not_found(notification_id)
        if found.recipient_account_id != reader.account_id:
            if found.organisation_id is None:
                require_operator(reader)
            else:
                await _may_read_organisation(context, connection, reader, found.organisation_id)
    return found


async def resend(
    context: NotificationContext, reader: Reader, notification_id: uuid.UUID
) -> Notification:
    """An operator sends an e-mail again: a new queued one, linked to the first (K24)."""
    require_operator(reader)
    async with context.pool.acquire() as connection, connection.transaction():
        resent = await notifications.resend(
            connection, notification_id, new_id=uuid.uuid4(), now=context.clock.now()
        )
    if resent is None:
        raise not_found(notification_id)
    return resent


async def bounced(
    context: NotificationContext, reader: Reader, notification_id: uuid.UUID, reason: str
) -> Notification:
    """An operator records that a sent e-mail bounced (K24: the address is recorded as
    undeliverable, and the failure published like any permanent one)."""
    require_operator(reader)
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        marked = await notifications.mark_bounced(connection, notification_id, now, reason)
        if marked is None:
            found = await notifications.get(connection, notification_id)
            if found is None:
                raise not_found(notification_id)
            detail = f"only a sent e-mail can bounce; this one is {found.status}"
            raise Problem(status=409, title="Not sent", type="invalid-state", detail=detail)
        event = NotificationFailed(
            notification_id=str(marked.id), kind=marked.kind,
            trigger_event_id=marked.trigger_event_id,
            organisation_id=None if marked.organisation_id is None else str(marked.organisation_id),
            recipient_account_id=None if marked.recipient_account_id is None
            else str(marked.recipient_account_id),
            failed_at=now, attempts=marked.attempts, error=f"bounced: {reason}", permanent=True,
        )  # fmt: skip
        await outbox.publish(connection, [event], source=SOURCE)
    return marked
