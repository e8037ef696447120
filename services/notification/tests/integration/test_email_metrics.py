"""The notification service counts the e-mails its delivery job handles, by outcome and kind,
in its ``/metrics`` (``kairos_emails_total``)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
from prometheus_client.parser import text_string_to_metric_families

from kairos_devstack.processes import free_port
from kairos_notification.adapters import notifications
from kairos_notification.adapters.notifications import Notification
from kairos_notification.adapters.smtp import DeliveryError
from kairos_notification.bootstrap import create_app
from kairos_notification.config import NotificationSettings
from kairos_notification.domain.delivery import OutgoingEmail
from kairos_notification.service_layer.context import NotificationContext
from kairos_shared.clock import ManualClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class ScriptedMailer:
    """Refuses for good the addresses starting with "refused", for now those with "later"."""

    async def send(self, message: OutgoingEmail) -> None:
        if message.recipient_email.startswith("refused"):
            raise DeliveryError(550, "no such mailbox", permanent=True)
        if message.recipient_email.startswith("later"):
            raise DeliveryError(451, "try again later", permanent=False)


def _notification(kind: str, email: str) -> Notification:
    return Notification(
        id=uuid.uuid4(), trigger_event_id=str(uuid.uuid4()),
        trigger_event_type="fr.kairos.identity.account-created.v1", kind=kind,
        organisation_id=uuid.uuid4(), recipient_email=email, recipient_name="Élodie Müller",
        recipient_account_id=uuid.uuid4(), subject="Objet", text_body="Bonjour,\n",
        html_body="<p>Bonjour,</p>", created_at=START,
    )  # fmt: skip


def _emails(text: str) -> dict[tuple[str, str], float]:
    return {
        (sample.labels["outcome"], sample.labels["kind"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "kairos_emails"
        for sample in family.samples
        if sample.name == "kairos_emails_total"
    }


async def test_the_delivery_job_counts_sent_retried_and_failed_emails_by_kind(
    database_url: str,
) -> None:
    # No Kafka: the service would queue e-mails for the events other tests left on the shared
    # topics; the delivery job needs only the database.
    settings = NotificationSettings(
        database_url=database_url, kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        delivery_interval_seconds=0.1,
    )  # fmt: skip
    app = create_app(settings, clock=ManualClock(START), mailer=ScriptedMailer())
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://notification") as client,
    ):
        context: NotificationContext = app.state.notification
        queued = [
            _notification("account_created", "a@of.example"),
            _notification("account_created", "b@of.example"),
            _notification("account_created", "refused@of.example"),
            _notification("habilitation_ended", "later@of.example"),
        ]
        async with context.pool.acquire() as connection:
            for notification in queued:
                assert await notifications.insert(connection, notification)
        expected = {
            ("sent", "account_created"): 2.0,
            ("failed", "account_created"): 1.0,
            ("retried", "habilitation_ended"): 1.0,
        }
        async with asyncio.timeout(30):
            while _emails((await client.get("/metrics")).text) != expected:  # noqa: ASYNC110 - polling the scrape
                await asyncio.sleep(0.1)
