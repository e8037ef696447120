"""The notification table (asyncpg): the e-mails to send and their delivery status (K24)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime

import asyncpg

from kairos_notification.domain.delivery import DeliveryStatus, OutgoingEmail
from kairos_shared.db import Connection

Cursor = tuple[datetime, uuid.UUID]
"""Where a page of a listing ends: the last row's (created_at, id); the next page is older."""


@dataclass(frozen=True)
class Notification:
    id: uuid.UUID
    trigger_event_id: str
    trigger_event_type: str
    kind: str
    organisation_id: uuid.UUID | None
    recipient_email: str
    recipient_name: str
    recipient_account_id: uuid.UUID | None
    subject: str
    text_body: str
    html_body: str
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.QUEUED
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    resent_from: uuid.UUID | None = None

    def outgoing(self, date: datetime) -> OutgoingEmail:
        """The e-mail to hand to the mailer, dated `date`."""
        return OutgoingEmail(
            notification_id=self.id, recipient_email=self.recipient_email,
            recipient_name=self.recipient_name, subject=self.subject,
            text_body=self.text_body, html_body=self.html_body, date=date,
        )  # fmt: skip


@dataclass(frozen=True)
class Page:
    notifications: list[Notification]
    next_cursor: Cursor | None
    """Pass it as `before` for the next page; None on the last page."""


_COLUMNS = tuple(field.name for field in fields(Notification))


def _notification(row: asyncpg.Record) -> Notification:
    values = {name: row[name] for name in _COLUMNS}
    values["status"] = DeliveryStatus(values["status"])
    return Notification(**values)


def _page(rows: list[asyncpg.Record], limit: int) -> Page:
    notifications = [_notification(row) for row in rows[:limit]]
    last = notifications[-1] if len(rows) > limit else None
    return Page(notifications, None if last is None else (last.created_at, last.id))


async def insert(connection: Connection, notification: Notification) -> bool:
    """Queue an e-mail, due at once; False (and nothing stored) when this triggering event
    already queued one of this kind for this address (a redelivered event, K24)."""
    inserted = await connection.fetchval(
        """
        INSERT INTO notification (id, trigger_event_id, trigger_event_type, kind,
                                  organisation_id, recipient_email, recipient_name,
                                  recipient_account_id, subject, text_body, html_body, status,
                                  attempts, next_attempt_at, created_at, resent_from)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'queued', 0, $12, $12, $13)
        ON CONFLICT (trigger_event_id, kind, lower(recipient_email)) WHERE resent_from IS NULL
        DO NOTHING
        RETURNING id
        """,
        notification.id, notification.trigger_event_id, notification.trigger_event_type,
        notification.kind, notification.organisation_id, notification.recipient_email,
        notification.recipient_name, notification.recipient_account_id, notification.subject,
        notification.text_body, notification.html_body, notification.created_at,
        notification.resent_from,
    )  # fmt: skip
    return inserted is not None


async def get(connection: Connection, notification_id: uuid.UUID) -> Notification | None:
    row = await connection.fetchrow("SELECT * FROM notification WHERE id = $1", notification_id)
    return None if row is None else _notification(row)


async def claim_due(connection: Connection, now: datetime, limit: int) -> list[Notification]:
    """Queued e-mails due by `now`, oldest due first, locked so that another replica's
    scheduler skips them until the caller's transaction ends."""
    rows = await connection.fetch(
        """
        SELECT * FROM notification
        WHERE status = 'queued' AND next_attempt_at <= $1
        ORDER BY next_attempt_at, id
        LIMIT $2
        FOR UPDATE SKIP LOCKED
        """,
        now, limit,
    )  # fmt: skip
    return [_notification(row) for row in rows]


async def _update(connection: Connection, sql: str, *arguments: object) -> Notification:
    row = await connection.fetchrow(sql, *arguments)
    if row is None:
        raise LookupError(f"no notification {arguments[0]}")
    return _notification(row)


async def mark_sent(
    connection: Connection, notification_id: uuid.UUID, at: datetime
) -> Notification:
    """One more attempt, and it succeeded."""
    return await _update(
        connection,
        """
        UPDATE notification
        SET status = 'sent', attempts = attempts + 1, sent_at = $2, next_attempt_at = NULL
        WHERE id = $1 RETURNING *
        """,
        notification_id, at,
    )  # fmt: skip


async def mark_retry(
    connection: Connection, notification_id: uuid.UUID, next_attempt_at: datetime, error: str
) -> Notification:
    """One more attempt failed; still queued, due again at `next_attempt_at`."""
    return await _update(
        connection,
        """
        UPDATE notification
        SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3
        WHERE id = $1 RETURNING *
        """,
        notification_id, next_attempt_at, error,
    )  # fmt: skip


async def mark_failed(
    connection: Connection, notification_id: uuid.UUID, at: datetime, error: str
) -> Notification:
    """One more attempt failed, and it was the last: never retried."""
    return await _update(
        connection,
        """
        UPDATE notification
        SET status = 'failed', attempts = attempts + 1, failed_at = $2, last_error = $3,
            next_attempt_at = NULL
        WHERE id = $1 RETURNING *
        """,
        notification_id, at, error,
    )  # fmt: skip


async def mark_bounced(
    connection: Connection, notification_id: uuid.UUID, at: datetime, error: str
) -> Notification | None:
    """A sent e-mail came back undelivered (a bounce reported after the SMTP server accepted
    it); None unless it was sent."""
    row = await connection.fetchrow(
        """
        UPDATE notification SET status = 'bounced', failed_at = $2, last_error = $3
        WHERE id = $1 AND status = 'sent' RETURNING *
        """,
        notification_id, at, error,
    )  # fmt: skip
    return None if row is None else _notification(row)


async def of_recipient(
    connection: Connection,
    *,
    account_id: uuid.UUID | None = None,
    email: str | None = None,
    before: Cursor | None = None,
    limit: int = 50,
) -> Page:
    """One page of a recipient's e-mails, newest first: by account id, or by address
    (compared without case) for recipients who have no account."""
    if (account_id is None) == (email is None):
        raise ValueError("give exactly one of account_id and email")
    column = "recipient_account_id" if account_id is not None else "lower(recipient_email)"
    value: object = account_id if account_id is not None else str(email).lower()
    rows = await connection.fetch(
        f"""
        SELECT * FROM notification
        WHERE {column} = $1
          AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
        ORDER BY created_at DESC, id DESC
        LIMIT $4
        """,  # noqa: S608 - the column is one of two constants
        value, before and before[0], before and before[1], limit + 1,
    )  # fmt: skip
    return _page(rows, limit)


async def of_organisation(
    connection: Connection,
    organisation_id: uuid.UUID,
    *,
    before: Cursor | None = None,
    limit: int = 50,
) -> Page:
    """One page of the e-mails about an organisation, newest first."""
    rows = await connection.fetch(
        """
        SELECT * FROM notification
        WHERE organisation_id = $1
          AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
        ORDER BY created_at DESC, id DESC
        LIMIT $4
        """,
        organisation_id, before and before[0], before and before[1], limit + 1,
    )  # fmt: skip
    return _page(rows, limit)


async def resend(
    connection: Connection, notification_id: uuid.UUID, *, new_id: uuid.UUID, now: datetime
) -> Notification | None:
    """A new queued e-mail, due at once, with the same event, recipient and content as
    `notification_id` and `resent_from` pointing at it; None when there is no such row.
    Whether a resend is allowed (say, not while the original is still queued) is the
    caller's decision."""
    row = await connection.fetchrow(
        """
        INSERT INTO notification (id, trigger_event_id, trigger_event_type, kind,
                                  organisation_id, recipient_email, recipient_name,
                                  recipient_account_id, subject, text_body, html_body, status,
                                  attempts, next_attempt_at, created_at, resent_from)
        SELECT $2, trigger_event_id, trigger_event_type, kind, organisation_id, recipient_email,
               recipient_name, recipient_account_id, subject, text_body, html_body, 'queued',
               0, $3, $3, id
        FROM notification WHERE id = $1
        RETURNING *
        """,
        notification_id, new_id, now,
    )  # fmt: skip
    return None if row is None else _notification(row)
