"""The one place that wires the notification service."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI

from kairos_notification.adapters.smtp import SmtpMailer
from kairos_notification.adapters.templates import TemplateRenderer
from kairos_notification.config import NotificationSettings
from kairos_notification.entrypoints import http_messages
from kairos_notification.entrypoints.consumers import subscriptions
from kairos_notification.entrypoints.http import router
from kairos_notification.service_layer.attendance_reminders import (
    AttendanceDeadline,
    remind_attendance,
)
from kairos_notification.service_layer.context import NotificationContext
from kairos_notification.service_layer.delivery import (
    DeliveryObserver,
    Mailer,
    Outcome,
    deliver_all_due,
)
from kairos_shared.access_hours import AccessCalendar, AccessHoursSettings
from kairos_shared.clock import Clock, system_clock
from kairos_shared.dead_letters import DeadLetterPublisher
from kairos_shared.jwks import jwks_client_from_settings
from kairos_shared.kafka import make_broker
from kairos_shared.messaging import Subscription
from kairos_shared.periodic import PeriodicJob
from kairos_shared.runtime import ServiceResources, create_service_app

MIGRATIONS = Path(str(files("kairos_notification") / "migrations"))


def create_app(
    settings: NotificationSettings | None = None,
    *,
    clock: Clock | None = None,
    jwks_http: httpx.AsyncClient | None = None,
    mailer: Mailer | None = None,
) -> FastAPI:
    """The service; `clock`, `jwks_http` and `mailer` are for tests and embedding."""
    settings = settings or NotificationSettings()
    clock = clock or system_clock(settings.clock_offset_file)
    broker = make_broker(
        settings.kafka_bootstrap_servers, client_id=settings.service_name, security=settings
    )
    tokens = jwks_client_from_settings(settings, http=jwks_http)

    def consumers(pool: asyncpg.Pool, dead_letters: DeadLetterPublisher) -> Iterable[Subscription]:
        return subscriptions(app.state.notification, pool, dead_letters)

    async def deliver() -> object:
        context: NotificationContext = app.state.notification
        return await deliver_all_due(
            context.pool, context.mailer, context.clock, context.retry,
            concurrency=settings.delivery_concurrency, observe=context.observe_delivery,
        )  # fmt: skip

    async def remind() -> object:
        deadline = AttendanceDeadline(
            settings.attendance_due_working_day, settings.attendance_reminder_days_before
        )
        return await remind_attendance(app.state.notification, deadline)

    async def close_jwks() -> None:
        await tokens.aclose()

    app = create_service_app(
        settings,
        title="Kairos notification service",
        migrations_dir=MIGRATIONS,
        broker=broker,
        routers=[router, http_messages.router],
        consumers=consumers,
        periodic=[
            PeriodicJob("delivery", settings.delivery_interval_seconds, deliver),
            PeriodicJob("attendance-reminders", settings.reminders_interval_seconds, remind),
        ],
        on_shutdown=[close_jwks],
    )
    app.state.notification = NotificationContext(
        resources=app.state.resources,
        clock=clock,
        renderer=TemplateRenderer(platform_url=settings.platform_url),
        mailer=mailer or SmtpMailer(settings.smtp()),
        retry=settings.retry_policy(),
        tokens=tokens,
        operators_mailbox=settings.operators_mailbox,
        observe_delivery=_email_counter(app),
        calendar=AccessCalendar(AccessHoursSettings().rules()),
        setup_retry_after_seconds=settings.setup_retry_after_seconds,
    )
    return app


def _email_counter(app: FastAPI) -> DeliveryObserver:
    """Counts e-mails in the service's metrics (``kairos_emails_total{outcome,kind}``)."""
    resources: ServiceResources = app.state.resources
    emails = resources.metrics.counter(
        "kairos_emails",
        "E-mails handed to the SMTP server, by outcome (sent, retried, failed) and kind.",
        ("outcome", "kind"),
    )

    def count(outcome: Outcome, kind: str) -> None:
        emails.labels(outcome.value, kind).inc()

    return count
