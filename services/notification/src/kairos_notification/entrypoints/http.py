"""HTTP API of the delivery log (K24): by organisation, by recipient, one notification's
status, resend."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field

from kairos_notification.adapters.notifications import Cursor, Notification, Page
from kairos_notification.service_layer import delivery_log
from kairos_notification.service_layer.context import NotificationContext
from kairos_notification.service_layer.delivery_log import Reader, reader_of
from kairos_shared.bearer import bearer_scheme, verified_claims
from kairos_shared.problems import ORGANISATION_BEING_SET_UP, FieldError, invalid_fields

router = APIRouter(tags=["notifications"])


def notification_context(request: Request) -> NotificationContext:
    context: NotificationContext = request.app.state.notification
    return context


Context = Annotated[NotificationContext, Depends(notification_context)]


async def current_reader(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Reader:
    claims = await verified_claims(context.tokens, credentials, context.clock.now())
    async with context.pool.acquire() as connection:
        return await reader_of(connection, claims, context.calendar, context.clock.now())


CurrentReader = Annotated[Reader, Depends(current_reader)]
Limit = Annotated[int, Query(ge=1, le=200)]


def _status(n: Notification) -> dict[str, Any]:
    """What the log shows of an e-mail (not its body)."""
    return {
        "notification_id": str(n.id), "kind": n.kind, "status": n.status.value,
        "trigger_event_id": n.trigger_event_id, "trigger_event_type": n.trigger_event_type,
        "organisation_id": n.organisation_id and str(n.organisation_id),
        "recipient_email": n.recipient_email, "recipient_name": n.recipient_name,
        "recipient_account_id": n.recipient_account_id and str(n.recipient_account_id),
        "subject": n.subject, "attempts": n.attempts, "created_at": n.created_at,
        "next_attempt_at": n.next_attempt_at, "sent_at": n.sent_at, "failed_at": n.failed_at,
        "last_error": n.last_error, "resent_from": n.resent_from and str(n.resent_from),
    }  # fmt: skip


def _cursor(before: str | None) -> Cursor | None:
    if before is None:
        return None
    try:
        at, notification_id = base64.urlsafe_b64decode(before).decode().split("|")
        return datetime.fromisoformat(at), uuid.UUID(notification_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid_fields([FieldError("before", "not a cursor this API returned")]) from None


def _page(page: Page) -> dict[str, Any]:
    cursor = page.next_cursor
    encoded = None
    if cursor is not None:
        encoded = base64.urlsafe_b64encode(f"{cursor[0].isoformat()}|{cursor[1]}".encode()).decode()
    return {"notifications": [_status(n) for n in page.notifications], "next_cursor": encoded}


@router.get(
    "/v1/organisations/{organisation_id}/notifications", responses=ORGANISATION_BEING_SET_UP
)
async def of_organisation(
    organisation_id: uuid.UUID, context: Context, reader: CurrentReader,
    before: str | None = None, limit: Limit = 50,
) -> dict[str, Any]:  # fmt: skip
    """The e-mails about an organisation, newest first (operators; its RGC)."""
    page = await delivery_log.of_organisation(
        context, reader, organisation_id, _cursor(before), limit
    )
    return _page(page)


@router.get("/v1/notifications")
async def of_recipient(
    context: Context, reader: CurrentReader, account_id: uuid.UUID | None = None,
    email: str | None = None, before: str | None = None, limit: Limit = 50,
) -> dict[str, Any]:  # fmt: skip
    """One recipient's e-mails, by account or address, newest first (operators)."""
    if (account_id is None) == (email is None):
        raise invalid_fields([FieldError("account_id", "give account_id or email, not both")])
    recipient: uuid.UUID | str = account_id if account_id is not None else str(email)
    return _page(
        await delivery_log.of_recipient(context, reader, recipient, _cursor(before), limit)
    )


@router.get("/v1/notifications/{notification_id}")
async def notification(
    notification_id: uuid.UUID, context: Context, reader: CurrentReader
) -> dict[str, Any]:
    """One e-mail's status (operators; its organisation's RGC; its recipient)."""
    return _status(await delivery_log.one(context, reader, notification_id))


@router.post("/v1/notifications/{notification_id}/resend", status_code=201)
async def resend(
    notification_id: uuid.UUID, context: Context, reader: CurrentReader
) -> dict[str, Any]:
    """Send an e-mail again: a new queued one, linked to the first (operators)."""
    return _status(await delivery_log.resend(context, reader, notification_id))


class BounceBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500, description="what the bounce report says")


@router.post("/v1/notifications/{notification_id}/bounce")
async def bounce(
    notification_id: uuid.UUID, body: BounceBody, context: Context, reader: CurrentReader
) -> dict[str, Any]:
    """Record that a sent e-mail bounced (operators, from the mail system's report)."""
    return _status(await delivery_log.bounced(context, reader, notification_id, body.reason))
