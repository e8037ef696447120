"""Delivering the queued e-mails (K24): each sent once, retried with back-off, its fate kept.

A scheduler round (:func:`deliver_due`) takes the due e-mails one at a time in each of
`concurrency` workers (several SMTP sends in flight: one at a time, a round is bound by the
round trips of one send and one commit after another). For each e-mail, one transaction claims
the row (`FOR UPDATE SKIP LOCKED`: another replica's round skips it), hands
the e-mail to the SMTP server, records the outcome and queues the status event in the outbox,
then commits. The transaction stays open during the send, which the mailer bounds by its
timeout; in exchange nothing else is needed to keep two replicas from sending the same e-mail:
no lease to size against the send time, and a replica that dies mid-send releases its row at
once (its connection closes, the transaction rolls back). What no design removes: a crash after
the server accepted the e-mail and before the commit sends it again, once, with the same
Message-ID. One transaction per e-mail (not per batch) keeps that to the e-mails in flight: at
most one per worker, `concurrency` per replica.
"""

from __future__ import annotations

import asyncio
import enum
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg
import structlog

from kairos_notification.adapters import notifications
from kairos_notification.adapters.notifications import Notification
from kairos_notification.adapters.smtp import DeliveryError
from kairos_notification.domain.delivery import OutgoingEmail, RetryPolicy, describe_failure
from kairos_schemas.notification import NotificationFailed, NotificationSent
from kairos_shared import outbox
from kairos_shared.clock import Clock
from kairos_shared.db import Connection

SOURCE = "/kairos/notification"

log = structlog.get_logger(__name__)


class Mailer(Protocol):
    async def send(self, message: OutgoingEmail) -> None:
        """Hand the e-mail to the SMTP server; DeliveryError when it was not accepted."""
        ...


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRIED = "retried"
    FAILED = "failed"


DeliveryObserver = Callable[[Outcome, str], None]
"""Told (outcome, notification kind) once each delivery attempt committed: metrics."""


@dataclass(frozen=True)
class DeliveryReport:
    """What one round did: e-mails sent, deferred to a later attempt, given up on."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


async def deliver_due(
    pool: asyncpg.Pool,
    mailer: Mailer,
    clock: Clock,
    policy: RetryPolicy,
    *,
    batch_size: int = 50,
    concurrency: int = 1,
    observe: DeliveryObserver | None = None,
) -> DeliveryReport:
    """One scheduler round: up to `batch_size` due e-mails, each in its own transaction, taken
    by `concurrency` workers (each holds a pooled connection while it sends).

    A round that handled `batch_size` e-mails may have left due ones: the caller runs another
    round at once (:func:`deliver_all_due` does). The round ends when a worker finds nothing
    due (the others finish the e-mail they hold) or fails (raised once every worker stopped)."""
    outcomes: Counter[Outcome] = Counter()
    left = batch_size

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            try:
                delivered = await _deliver_next(pool, mailer, clock, policy)
            except BaseException:
                left = 0
                raise
            if delivered is None:
                left = 0
                return
            outcome, kind = delivered
            outcomes[outcome] += 1
            if observe is not None:
                observe(outcome, kind)

    workers = max(1, min(concurrency, batch_size))
    if workers == 1:
        await worker()
    else:
        results = await asyncio.gather(*(worker() for _ in range(workers)), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
    return DeliveryReport(
        outcomes[Outcome.SENT], outcomes[Outcome.RETRIED], outcomes[Outcome.FAILED]
    )


async def deliver_all_due(
    pool: asyncpg.Pool,
    mailer: Mailer,
    clock: Clock,
    policy: RetryPolicy,
    *,
    batch_size: int = 50,
    concurrency: int = 1,
    observe: DeliveryObserver | None = None,
) -> DeliveryReport:
    """Rounds of :func:`deliver_due` until one finds fewer than `batch_size` e-mails due."""
    total = DeliveryReport()
    while True:
        report = await deliver_due(
            pool, mailer, clock, policy,
            batch_size=batch_size, concurrency=concurrency, observe=observe,
        )  # fmt: skip
        total = DeliveryReport(
            total.sent + report.sent, total.retried + report.retried, total.failed + report.failed
        )
        if report.handled < batch_size:
            return total


async def _deliver_next(
    pool: asyncpg.Pool, mailer: Mailer, clock: Clock, policy: RetryPolicy
) -> tuple[Outcome, str] | None:
    """Claim, send and record the next due e-mail: (outcome, its kind); None when none is due."""
    async with pool.acquire() as connection, connection.transaction():
        claimed = await notifications.claim_due(connection, clock.now(), 1)
        if not claimed:
            return None
        notification = claimed[0]
        failure = await _send(mailer, notification, clock.now())
        now = clock.now()
        if failure is None:
            await _record_sent(connection, notification, now)
            return Outcome.SENT, notification.kind
        attempts = notification.attempts + 1
        retry_at = None if failure.permanent else policy.next_attempt(attempts, now)
        if retry_at is None:
            await _record_failed(connection, notification, now, failure)
            return Outcome.FAILED, notification.kind
        retried = await notifications.mark_retry(
            connection, notification.id, retry_at, str(failure)
        )
        log.info(
            "e-mail deferred", notification_id=str(notification.id), status=retried.status,
            code=failure.code, attempts=retried.attempts, next_attempt_at=retry_at.isoformat(),
        )  # fmt: skip
        return Outcome.RETRIED, notification.kind


async def _send(mailer: Mailer, notification: Notification, now: datetime) -> DeliveryError | None:
    try:
        await mailer.send(notification.outgoing(now))
    except DeliveryError as error:
        return error
    except Exception as error:  # noqa: BLE001 - a mailer bug must not stop the queue: retried later
        log.error(  # noqa: TRY400 - no traceback: it could quote the recipient or the body
            "mailer failed unexpectedly",
            notification_id=str(notification.id), error_type=type(error).__name__,
        )  # fmt: skip
        return DeliveryError(None, describe_failure(None, type(error).__name__), permanent=False)
    return None


async def _record_sent(connection: Connection, notification: Notification, now: datetime) -> None:
    sent = await notifications.mark_sent(connection, notification.id, now)
    event = NotificationSent(
        notification_id=str(sent.id), kind=sent.kind, trigger_event_id=sent.trigger_event_id,
        organisation_id=_text(sent.organisation_id),
        recipient_account_id=_text(sent.recipient_account_id),
        sent_at=now, attempts=sent.attempts,
    )  # fmt: skip
    await outbox.publish(connection, [event], source=SOURCE)
    log.info("e-mail sent", notification_id=str(sent.id), status=sent.status,
             attempts=sent.attempts)  # fmt: skip


async def _record_failed(
    connection: Connection, notification: Notification, now: datetime, failure: DeliveryError
) -> None:
    failed = await notifications.mark_failed(connection, notification.id, now, str(failure))
    event = NotificationFailed(
        notification_id=str(failed.id), kind=failed.kind,
        trigger_event_id=failed.trigger_event_id,
        organisation_id=_text(failed.organisation_id),
        recipient_account_id=_text(failed.recipient_account_id),
        failed_at=now, attempts=failed.attempts, error=str(failure),
        permanent=failure.permanent,
    )  # fmt: skip
    await outbox.publish(connection, [event], source=SOURCE)
    log.warning(
        "e-mail undeliverable", notification_id=str(failed.id), status=failed.status,
        code=failure.code, attempts=failed.attempts, permanent=failure.permanent,
    )  # fmt: skip


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)
