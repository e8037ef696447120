"""Messages people write (K23, CGU §3 and §4.1.3): an operator announces a maintenance closure
or a change to every organisation's head and RGC; an organisation's RGC reports an incident to
the operators' mailbox. Each is queued like an event's e-mails, once per recipient."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kairos_notification.adapters import recipients
from kairos_notification.adapters.recipients import Recipient
from kairos_notification.domain.notifications import NotificationKind as Kind
from kairos_notification.service_layer.context import NotificationContext
from kairos_notification.service_layer.delivery_log import Reader, require_operator
from kairos_notification.service_layer.notices import Notice, head_and_rgc, notice_for
from kairos_notification.service_layer.queueing import queue
from kairos_shared.problems import forbidden, organisation_being_set_up


@dataclass(frozen=True)
class Announcement:
    """A maintenance closure (`starts_at`, `ends_at`, `reason`) or a change (`title`,
    `message`, `effective_at`)."""

    kind: Kind
    values: dict[str, Any]


async def announce(context: NotificationContext, reader: Reader, announcement: Announcement) -> int:
    """Queue the announcement for every organisation's head and RGC; how many e-mails."""
    require_operator(reader)
    trigger = (f"announcement:{uuid.uuid4()}", f"operator-{announcement.kind.value}")
    async with context.pool.acquire() as connection, connection.transaction():
        notices: list[Notice] = []
        for organisation in await recipients.organisations(connection):
            notices += [
                notice_for(organisation, announcement.kind, who, **announcement.values)
                for who in await head_and_rgc(connection, organisation)
            ]
        return await queue(connection, context.renderer, notices, trigger, context.clock.now())


@dataclass(frozen=True)
class IncidentReport:
    summary: str
    description: str


async def report_incident(
    context: NotificationContext,
    reader: Reader,
    organisation_id: uuid.UUID,
    report: IncidentReport,
) -> uuid.UUID:
    """The RGC (the head while the post is vacant) reports an incident to the operators."""
    now: datetime = context.clock.now()
    report_id = uuid.uuid4()
    async with context.pool.acquire() as connection, connection.transaction():
        if reader.organisation_id != organisation_id:
            raise forbidden(
                "only the organisation's RGC reports its incidents", title="Not the RGC"
            )
        organisation = await recipients.organisation(connection, organisation_id)
        if organisation is None:  # its own, named by its token: the validation is on its way
            raise organisation_being_set_up(organisation_id, context.setup_retry_after_seconds)
        if (organisation.rgc_account_id or organisation.head_account_id) != reader.account_id:
            raise forbidden(
                "only the organisation's RGC reports its incidents", title="Not the RGC"
            )
        reporter = await recipients.person(connection, reader.account_id)
        assert reporter is not None  # the RGC's account is known: its organisation is
        mailbox = Recipient(context.operators_mailbox, "Équipe", "d'exploitation Kairos")
        variables = {
            "organisation_name": organisation.legal_name, "zone": organisation.zone,
            "siret": organisation.siret, "reporter_name": reporter.name,
            "reporter_email": reporter.email, "reported_at": now,
            "summary": report.summary, "description": report.description,
        }  # fmt: skip
        notice = Notice(Kind.RGC_INCIDENT_REPORT, mailbox, organisation.id, variables)
        trigger = (f"incident-report:{report_id}", "rgc-incident-report")
        await queue(connection, context.renderer, [notice], trigger, now)
    return report_id
