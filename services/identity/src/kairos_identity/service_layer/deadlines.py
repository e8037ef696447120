"""The identity service's deadlines, driven by the injected clock (K2, K6).

One pass (:func:`apply_deadlines`) handles, each in its own transaction:

- provisional credentials: a reminder before they lapse (RGC 7 and 2 days before, others 2
  days before), then the lapse itself once the deadline passed — an ``AccountLapsed`` event, or
  ``RgcAccountLapsed`` for an RGC, whose post becomes vacant (K10); its sessions end;
- organisations' access: notices 90, 30 and 7 days before the 3-year period ends, then the end
  (``AdhesionExpired``), which ends every session of the organisation;
- adhesion requests left without a decision: closed after the configured time
  (``AdhesionRequestExpired``, :mod:`adhesion_requests`), K1.

Rows are claimed ``FOR UPDATE SKIP LOCKED``, so several replicas may run passes at once and
each deadline is acted on once: its state change and its event commit together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from kairos_identity.adapters import accounts
from kairos_identity.domain import organisations as rules
from kairos_identity.domain.accounts import Role
from kairos_identity.domain.lapse_reminders import reminders_due
from kairos_identity.service_layer.adhesion_requests import expire_pending_requests
from kairos_identity.service_layer.adhesion_throttle import forget_quiet_addresses
from kairos_identity.service_layer.context import SOURCE, IdentityContext
from kairos_identity.service_layer.sessions import end_sessions
from kairos_schemas import Event
from kairos_schemas import identity as events
from kairos_shared import outbox
from kairos_shared.db import Connection
from kairos_shared.zones import Zone

BATCH = 200


@dataclass
class DeadlineReport:
    reminders: int = 0
    lapsed: int = 0
    expiry_notices: int = 0
    expired: int = 0
    events: list[str] = field(default_factory=list)


async def apply_deadlines(context: IdentityContext) -> DeadlineReport:
    report = DeadlineReport()
    async with context.pool.acquire() as connection, connection.transaction():
        await _provisional_accounts(context, connection, report)
    async with context.pool.acquire() as connection, connection.transaction():
        await _organisation_access(context, connection, report)
    report.events += await expire_pending_requests(context)  # K1: no request waits for ever
    await forget_quiet_addresses(context)
    return report


async def _provisional_accounts(
    context: IdentityContext, connection: Connection, report: DeadlineReport
) -> None:
    now = context.clock.now()
    rows = await connection.fetch(
        """
        SELECT id, organisation_id, role, provisional_issued_at, provisional_until,
               provisional_reminders_sent,
               (SELECT zone FROM organisation WHERE organisation.id = account.organisation_id)
        FROM account
        WHERE status = 'provisional' AND provisional_until IS NOT NULL
        ORDER BY provisional_until
        LIMIT $1
        FOR UPDATE SKIP LOCKED
        """,
        BATCH,
    )
    published: list[Event] = []
    for row in rows:
        role = Role(row["role"])
        account_id, org = str(row["id"]), _text(row["organisation_id"])
        if now >= row["provisional_until"]:
            await connection.execute(
                "UPDATE account SET status = 'lapsed' WHERE id = $1", row["id"]
            )
            await end_sessions(
                connection, [row["id"]], reason="account_lapsed", now=now, organisation_id=org
            )
            published.append(
                events.RgcAccountLapsed(account_id=account_id, organisation_id=org, lapsed_at=now)
                if role is Role.RGC
                else events.AccountLapsed(
                    account_id=account_id, organisation_id=org, role=role.value, lapsed_at=now
                )
            )
            report.lapsed += 1
            continue
        sent = [timedelta(days=days) for days in row["provisional_reminders_sent"]]
        zone = Zone.METROPOLITAN if row["zone"] is None else Zone(row["zone"])
        for reminder in reminders_due(
            role, row["provisional_issued_at"], now, sent,
            validity=context.provisional_validity, zone=zone,
        ):  # fmt: skip
            await connection.execute(
                "UPDATE account SET provisional_reminders_sent = provisional_reminders_sent || $2"
                " WHERE id = $1",
                row["id"],
                [reminder.before_deadline.days],
            )
            published.append(events.ProvisionalAccessReminder(
                account_id=account_id, organisation_id=org, role=role.value,
                provisional_until=reminder.deadline, days_left=reminder.before_deadline.days,
            ))  # fmt: skip
            report.reminders += 1
    await outbox.publish(connection, published, source=SOURCE)
    report.events += [event.event_type for event in published]


async def _organisation_access(
    context: IdentityContext, connection: Connection, report: DeadlineReport
) -> None:
    now = context.clock.now()
    rows = await connection.fetch(
        """
        SELECT id, status, access_expires_at, expiry_notices_sent FROM organisation
        WHERE status = 'active' AND access_expires_at <= $1
        ORDER BY access_expires_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED
        """,
        now + timedelta(days=max(context.expiry_notice_days, default=0)),
        BATCH,
    )
    published: list[Event] = []
    for row in rows:
        org = str(row["id"])
        access = rules.OrganisationAccess(
            rules.OrganisationStatus(row["status"]),
            row["access_expires_at"],
            frozenset(row["expiry_notices_sent"]),
        )
        if rules.has_expired(access, now):
            await connection.execute(
                "UPDATE organisation SET status = 'expired', status_changed_at = $2 WHERE id = $1",
                row["id"],
                now,
            )
            account_ids = await accounts.organisation_account_ids(connection, row["id"])
            await end_sessions(
                connection, account_ids, reason="access_expired", now=now, organisation_id=org
            )
            published.append(events.AdhesionExpired(organisation_id=org, expired_at=now))
            report.expired += 1
            continue
        due = rules.expiry_notices_due(access, now, context.expiry_notice_days)
        if due:
            await connection.execute(
                "UPDATE organisation SET expiry_notices_sent = expiry_notices_sent || $2"
                " WHERE id = $1",
                row["id"],
                due,
            )
            # Only the most urgent notice goes out; the earlier ones are recorded as handled.
            notice = events.AdhesionExpiring(
                organisation_id=org, access_expires_at=row["access_expires_at"], days_before=due[-1]
            )
            published.append(notice)
            report.expiry_notices += 1
    await outbox.publish(connection, published, source=SOURCE)
    report.events += [event.event_type for event in published]


def _text(value: object) -> str | None:
    return None if value is None else str(value)
