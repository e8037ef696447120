"""K24 against a real PostgreSQL and a real SMTP server (aiosmtpd, answering as each test
tells it): an e-mail is sent once per triggering event and recipient, retried with back-off on
a transient failure, given up on a permanent one, and its status is kept and published."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from importlib.resources import files
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from structlog.testing import capture_logs

from kairos_devstack.processes import free_port
from kairos_notification.adapters import notifications
from kairos_notification.adapters.notifications import Notification
from kairos_notification.adapters.smtp import SmtpMailer, SmtpSettings
from kairos_notification.domain.delivery import DeliveryStatus, RetryPolicy
from kairos_notification.service_layer.delivery import (
    DeliveryReport,
    deliver_all_due,
    deliver_due,
)
from kairos_schemas import CloudEvent, parse_event
from kairos_schemas.notification import NotificationFailed, NotificationSent
from kairos_shared.clock import ManualClock
from kairos_shared.db import create_pool
from kairos_shared.migrations import apply_migrations
from kairos_shared.runtime import SHARED_MIGRATIONS

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy()
ADDRESS = "elodie.muller@of.example"
MIGRATIONS = Path(str(files("kairos_notification") / "migrations"))


class ScriptedServer:
    """An aiosmtpd handler: answers RCPT with the scripted replies first, then accepts; keeps
    every message that reached DATA. `slow_data`: the first DATA is kept but answered late."""

    def __init__(self, rcpt_replies: tuple[str, ...] = (), slow_data: float = 0.0) -> None:
        self.rcpt_replies = deque(rcpt_replies)
        self.rcpt_count = 0
        self.received: list[EmailMessage] = []
        self.slow_data = slow_data

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, _server: SMTP, _session: Session, envelope: Envelope, address: str, _options: Any
    ) -> str:
        self.rcpt_count += 1
        if self.rcpt_replies:
            return self.rcpt_replies.popleft()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, _server: SMTP, _session: Session, envelope: Envelope
    ) -> str:
        message = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        if self.slow_data:
            delay, self.slow_data = self.slow_data, 0.0
            await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0.01)  # long enough for two rounds to overlap
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [str(message["Message-ID"]) for message in self.received]


StartServer = Callable[[ScriptedServer], SmtpMailer]


@pytest.fixture
def smtp_server() -> Iterator[StartServer]:
    """``smtp_server(handler)``: a real SMTP server on a free port, and a mailer pointed at it."""
    controllers: list[Controller] = []

    def start(handler: ScriptedServer) -> SmtpMailer:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return _mailer(port)

    yield start
    for controller in controllers:
        controller.stop()


def _mailer(port: int, timeout: float = 5.0) -> SmtpMailer:
    return SmtpMailer(
        SmtpSettings(
            host="127.0.0.1", port=port, sender_address="ne-pas-repondre@kairos.example",
            sender_name="Équipe Kairos", timeout=timeout, local_hostname="kairos-tests",
        )
    )  # fmt: skip


async def _pool(database_url: str) -> asyncpg.Pool:
    pool = await create_pool(database_url, min_size=1, max_size=4)
    async with pool.acquire() as connection:
        await apply_migrations(connection, SHARED_MIGRATIONS, component="kairos_shared")
        await apply_migrations(connection, MIGRATIONS, component="notification")
    return pool


@pytest_asyncio.fixture(loop_scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await _pool(database_url)
    yield pool
    await pool.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def _notification(clock: ManualClock, **overrides: Any) -> Notification:
    values: dict[str, Any] = {
        "id": uuid.uuid4(), "trigger_event_id": str(uuid.uuid4()),
        "trigger_event_type": "fr.kairos.identity.account-created.v1", "kind": "account_created",
        "organisation_id": uuid.uuid4(), "recipient_email": ADDRESS,
        "recipient_name": "Élodie Müller", "recipient_account_id": uuid.uuid4(),
        "subject": "Votre compte Kairos est créé",
        "text_body": "Bonjour Élodie,\n\nVotre compte Kairos est créé.\n",
        "html_body": "<p>Bonjour Élodie,</p><p>Votre compte Kairos est créé.</p>",
        "created_at": clock.now(),
    }  # fmt: skip
    return Notification(**(values | overrides))


async def _queue(pool: asyncpg.Pool, notification: Notification) -> bool:
    async with pool.acquire() as connection:
        return await notifications.insert(connection, notification)


async def _get(pool: asyncpg.Pool, notification_id: uuid.UUID) -> Notification:
    async with pool.acquire() as connection:
        stored = await notifications.get(connection, notification_id)
    assert stored is not None
    return stored


async def _published(pool: asyncpg.Pool) -> list[tuple[bytes, Any]]:
    """The outbox's events, as (Kafka key, event)."""
    rows = await pool.fetch("SELECT key, value, header_names, header_values FROM outbox")
    records = [(r["key"], r["value"], [*zip(r["header_names"], r["header_values"], strict=True)])
               for r in rows]  # fmt: skip
    return [(record[0], parse_event(CloudEvent.from_kafka(*record))) for record in records]


async def test_a_queued_mail_is_delivered_once_as_text_and_html(
    pool: asyncpg.Pool, clock: ManualClock, smtp_server: StartServer
) -> None:
    server = ScriptedServer()
    mailer = smtp_server(server)
    queued = _notification(clock)
    assert await _queue(pool, queued)

    assert await deliver_due(pool, mailer, clock, POLICY) == DeliveryReport(sent=1)
    assert await deliver_due(pool, mailer, clock, POLICY) == DeliveryReport()

    [message] = server.received
    assert message.get_content_type() == "multipart/alternative"
    plain, html = (message.get_body(preferencelist=(kind,)) for kind in ("plain", "html"))
    assert plain is not None
    assert html is not None
    assert plain.get_content().replace("\r\n", "\n") == queued.text_body  # CRLF on the wire
    assert html.get_content().strip() == queued.html_body
    assert message["Message-ID"] == f"<{queued.id}@kairos.example>"
    assert message["Subject"] == queued.subject
    assert message["To"].addresses[0].display_name == "Élodie Müller"
    assert message["From"].addresses[0].display_name == "Équipe Kairos"
    assert message["Date"].datetime == START

    sent = await _get(pool, queued.id)
    assert (sent.status, sent.attempts, sent.sent_at, sent.next_attempt_at) == (
        DeliveryStatus.SENT, 1, START, None
    )  # fmt: skip
    [(key, event)] = await _published(pool)
    assert key == str(queued.id).encode()
    assert event == NotificationSent(
        notification_id=str(queued.id), kind="account_created",
        trigger_event_id=queued.trigger_event_id, organisation_id=str(queued.organisation_id),
        recipient_account_id=str(queued.recipient_account_id), sent_at=START, attempts=1,
    )  # fmt: skip


async def test_a_long_french_subject_reaches_the_server_as_it_was_written(
    pool: asyncpg.Pool, clock: ManualClock, smtp_server: StartServer
) -> None:
    """The raw message the server received, read by `email` with `policy.default`: the subject
    folded at 78 characters before « démonstration » read back with a doubled space."""
    server = ScriptedServer()
    mailer = smtp_server(server)
    subject = "Kairos : le poste de RGC de l'organisme Organisme de démonstration est vacant"
    long_one = "Kairos : votre habilitation pour l'organisme Organisme de démonstration a pris fin"
    for text in (subject, long_one):
        assert await _queue(pool, _notification(clock, subject=text))
    assert await deliver_due(pool, mailer, clock, POLICY) == DeliveryReport(sent=2)
    assert sorted(str(message["Subject"]) for message in server.received) == sorted(
        [subject, long_one]
    )


async def test_a_deferring_server_gets_the_mail_once_after_three_attempts_with_back_off(
    pool: asyncpg.Pool, clock: ManualClock, smtp_server: StartServer
) -> None:
    server = ScriptedServer(rcpt_replies=("451 4.7.1 Greylisted, try later",) * 2)
    mailer = smtp_server(server)
    queued = _notification(clock)
    await _queue(pool, queued)

    assert await deliver_due(pool, mailer, clock, POLICY) == DeliveryReport(retried=1)
    first = await _get(pool, queued.id)
    assert (first.status, first.attempts) == (DeliveryStatus.QUEUED, 1)
    assert first.next_attempt_at == START + timedelta(seconds=30)
    assert first.last_error is not None
    assert first.last_error.startswith("451")

    clock.advance(timedelta(seconds=29))  # not due yet
    assert await deliver_due(pool, mailer, clock, POLICY) == DeliveryReport()
    clock.advance(timedelta(seconds=1))
    assert await deliver_due(pool, mailer, clock, POLICY) == DeliveryReport(retried=1)
    second = await _get(pool, queued.id)
    assert second.attempts == 2
    assert second.next_attempt_at == clock.now() + timedelta(seconds=60)  # doubled

    clock.advance(timedelta(seconds=60))
    assert await deliver_due(pool, mailer, clock, POLICY) == DeliveryReport(sent=1)
    sent = await _get(pool, queued.id)
    assert (sent.status, sent.attempts, sent.sent_at) == (DeliveryStatus.SENT, 3, clock.now())
    assert server.rcpt_count == 3
    assert server.message_ids() == [f"<{queued.id}@kairos.example>"]
    [(_, event)] = await _published(pool)
    assert isinstance(event, NotificationSent)
    assert event.attempts == 3


async def test_a_refused_recipient_fails_at_once_and_is_published_without_the_address(
    pool: asyncpg.Pool, clock: ManualClock, smtp_server: StartServer
) -> None:
    server = ScriptedServer(rcpt_replies=(f"550 5.1.1 <{ADDRESS}>: Mailbox unavailable",))
    mailer = smtp_server(server)
    queued = _notification(clock)
    await _queue(pool, queued)

    with capture_logs() as logs:
        assert await deliver_due(pool, mailer, clock, POLICY) == DeliveryReport(failed=1)
    assert {entry["event"] for entry in logs} == {"e-mail not accepted", "e-mail undeliverable"}
    assert all(entry["notification_id"] == str(queued.id) for entry in logs)
    assert not [entry for entry in logs if "Élodie" in repr(entry) or "@" in repr(entry)]
    clock.advance(timedelta(days=1))
    assert await deliver_due(pool, mailer, clock, POLICY) == DeliveryReport()  # never retried
    assert server.rcpt_count == 1
    assert server.received == []

    failed = await _get(pool, queued.id)
    assert (failed.status, failed.attempts, failed.failed_at) == (
        DeliveryStatus.FAILED, 1, START
    )  # fmt: skip
    assert failed.last_error == "550 5.1.1 <<address>>: Mailbox unavailable"
    [(_, event)] = await _published(pool)
    assert isinstance(event, NotificationFailed)
    assert (event.notification_id, event.permanent, event.attempts) == (str(queued.id), True, 1)
    assert event.error == failed.last_error
    raw = await pool.fetchval("SELECT value FROM outbox")
    assert ADDRESS.encode() not in raw
    assert "Élodie".encode() not in raw


async def test_a_server_that_is_down_means_a_later_attempt_and_in_the_end_a_failure(
    pool: asyncpg.Pool, clock: ManualClock
) -> None:
    mailer = _mailer(free_port(), timeout=2.0)  # nothing listens there
    queued = _notification(clock)
    await _queue(pool, queued)
    policy = RetryPolicy(max_attempts=2)

    assert await deliver_due(pool, mailer, clock, policy) == DeliveryReport(retried=1)
    deferred = await _get(pool, queued.id)
    assert (deferred.status, deferred.attempts) == (DeliveryStatus.QUEUED, 1)
    assert deferred.next_attempt_at == START + timedelta(seconds=30)
    assert await _published(pool) == []

    clock.advance(timedelta(seconds=30))
    assert await deliver_due(pool, mailer, clock, policy) == DeliveryReport(failed=1)
    [(_, event)] = await _published(pool)
    assert isinstance(event, NotificationFailed)
    assert (event.permanent, event.attempts) == (False, 2)


async def test_a_retry_after_an_uncertain_send_keeps_the_message_id(
    pool: asyncpg.Pool, clock: ManualClock, smtp_server: StartServer
) -> None:
    server = ScriptedServer(slow_data=3.0)  # takes the first DATA, answers after our timeout
    port_mailer = smtp_server(server)
    mailer = SmtpMailer(port_mailer.settings.model_copy(update={"timeout": 1.0}))
    queued = _notification(clock)
    await _queue(pool, queued)

    assert await deliver_due(pool, mailer, clock, POLICY) == DeliveryReport(retried=1)
    clock.advance(timedelta(seconds=30))
    assert await deliver_due(pool, mailer, clock, POLICY) == DeliveryReport(sent=1)
    assert server.message_ids() == [f"<{queued.id}@kairos.example>"] * 2


async def test_two_rounds_at_once_send_each_mail_once(
    database_url: str, pool: asyncpg.Pool, clock: ManualClock, smtp_server: StartServer
) -> None:
    server = ScriptedServer()
    mailer = smtp_server(server)
    queued = [_notification(clock, recipient_email=f"user{n}@of.example") for n in range(12)]
    for notification in queued:
        await _queue(pool, notification)
    other_replica = await _pool(database_url)
    try:
        reports = await asyncio.gather(
            deliver_due(pool, mailer, clock, POLICY, batch_size=50),
            deliver_due(other_replica, mailer, clock, POLICY, batch_size=50),
        )
    finally:
        await other_replica.close()

    assert sum(report.sent for report in reports) == 12
    assert all(report.sent > 0 for report in reports)  # both really worked
    assert Counter(server.message_ids()) == {f"<{n.id}@kairos.example>": 1 for n in queued}
    assert len(await _published(pool)) == 12


async def test_a_round_handles_at_most_its_batch_and_rounds_go_on_while_mails_are_due(
    pool: asyncpg.Pool, clock: ManualClock, smtp_server: StartServer
) -> None:
    mailer = smtp_server(ScriptedServer())
    for n in range(7):
        await _queue(pool, _notification(clock, recipient_email=f"user{n}@of.example"))
    assert await deliver_due(pool, mailer, clock, POLICY, batch_size=2) == DeliveryReport(sent=2)
    assert await deliver_all_due(pool, mailer, clock, POLICY, batch_size=2) == DeliveryReport(
        sent=5
    )


async def test_several_workers_send_each_mail_once_and_a_round_keeps_to_its_batch(
    pool: asyncpg.Pool, clock: ManualClock, smtp_server: StartServer
) -> None:
    server = ScriptedServer()
    mailer = smtp_server(server)
    queued = [_notification(clock, recipient_email=f"user{n}@of.example") for n in range(9)]
    for notification in queued:
        await _queue(pool, notification)

    first = await deliver_due(pool, mailer, clock, POLICY, batch_size=5, concurrency=3)
    rest = await deliver_all_due(pool, mailer, clock, POLICY, batch_size=5, concurrency=3)

    assert (first, rest) == (DeliveryReport(sent=5), DeliveryReport(sent=4))
    assert Counter(server.message_ids()) == {f"<{n.id}@kairos.example>": 1 for n in queued}
    assert len(await _published(pool)) == 9


async def test_the_same_event_and_recipient_twice_is_stored_once(
    pool: asyncpg.Pool, clock: ManualClock
) -> None:
    first = _notification(clock)
    redelivered = replace(first, id=uuid.uuid4(), recipient_email=ADDRESS.upper())
    assert await _queue(pool, first)
    assert not await _queue(pool, redelivered)
    other_kind = replace(first, id=uuid.uuid4(), kind="rgc_provisional_access")
    other_recipient = replace(first, id=uuid.uuid4(), recipient_email="head@of.example")
    assert await _queue(pool, other_kind)
    assert await _queue(pool, other_recipient)
    assert await pool.fetchval(
        "SELECT count(*) FROM notification WHERE trigger_event_id = $1", first.trigger_event_id
    ) == 3  # fmt: skip


async def test_a_resend_is_a_new_queued_mail_linked_to_the_first(
    pool: asyncpg.Pool, clock: ManualClock, smtp_server: StartServer
) -> None:
    server = ScriptedServer()
    mailer = smtp_server(server)
    original = _notification(clock)
    await _queue(pool, original)
    await deliver_due(pool, mailer, clock, POLICY)

    clock.advance(timedelta(days=2))
    async with pool.acquire() as connection:
        resent = await notifications.resend(
            connection, original.id, new_id=uuid.uuid4(), now=clock.now()
        )
        assert await notifications.resend(
            connection, uuid.uuid4(), new_id=uuid.uuid4(), now=clock.now()
        ) is None  # fmt: skip
    assert resent is not None
    assert (resent.status, resent.attempts, resent.resent_from) == (
        DeliveryStatus.QUEUED, 0, original.id
    )  # fmt: skip
    assert (resent.created_at, resent.next_attempt_at) == (clock.now(), clock.now())
    same = ("trigger_event_id", "kind", "recipient_email", "subject", "text_body", "html_body")
    assert {f: getattr(resent, f) for f in same} == {f: getattr(original, f) for f in same}
    assert (await _get(pool, original.id)).status is DeliveryStatus.SENT  # untouched

    assert await deliver_due(pool, mailer, clock, POLICY) == DeliveryReport(sent=1)
    assert server.message_ids() == [
        f"<{original.id}@kairos.example>",
        f"<{resent.id}@kairos.example>",
    ]


async def test_delivery_status_is_listed_by_recipient_and_organisation_page_by_page(
    pool: asyncpg.Pool, clock: ManualClock
) -> None:
    organisation, account = uuid.uuid4(), uuid.uuid4()
    stored = []
    for _ in range(5):
        clock.advance(timedelta(minutes=1))
        notification = _notification(
            clock, organisation_id=organisation, recipient_account_id=account
        )
        await _queue(pool, notification)
        stored.append(notification.id)
    await _queue(pool, _notification(clock))  # someone else's
    newest_first = stored[::-1]

    async with pool.acquire() as connection:
        pages, cursor = [], None
        while True:
            page = await notifications.of_organisation(
                connection, organisation, before=cursor, limit=2
            )
            pages.append([n.id for n in page.notifications])
            if (cursor := page.next_cursor) is None:
                break
        by_account = await notifications.of_recipient(connection, account_id=account, limit=10)
        by_address = await notifications.of_recipient(connection, email=ADDRESS.upper())
        with pytest.raises(ValueError, match="exactly one"):
            await notifications.of_recipient(connection)
    assert pages == [newest_first[:2], newest_first[2:4], newest_first[4:]]
    assert [n.id for n in by_account.notifications] == newest_first
    assert by_account.next_cursor is None
    assert len(by_address.notifications) == 6


def test_the_published_status_events_carry_no_address_field() -> None:
    for event_class in (NotificationSent, NotificationFailed):
        schema = json.dumps(event_class.model_json_schema())
        assert "email" not in schema
        assert "body" not in schema
