"""The one place that wires the habilitation service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI

from kairos_habilitation.config import HabilitationSettings
from kairos_habilitation.domain.reviews import ReviewDefault, ReviewPolicy
from kairos_habilitation.entrypoints import (
    http_demands,
    http_flags,
    http_habilitations,
    http_reviews,
    http_rgc,
)
from kairos_habilitation.entrypoints.consumers import subscriptions
from kairos_habilitation.service_layer import demands, review_deadlines
from kairos_habilitation.service_layer.absences import apply_due
from kairos_habilitation.service_layer.context import HabilitationContext, PoolHolder, TokenCheck
from kairos_habilitation.service_layer.sessions import prune_ended_sessions
from kairos_shared.access_hours import AccessCalendar, AccessHoursSettings
from kairos_shared.clock import Clock, system_clock
from kairos_shared.dead_letters import DeadLetterPublisher
from kairos_shared.jwks import jwks_client_from_settings
from kairos_shared.kafka import make_broker
from kairos_shared.messaging import Subscription
from kairos_shared.periodic import PeriodicJob
from kairos_shared.runtime import create_service_app

MIGRATIONS = Path(str(files("kairos_habilitation") / "migrations"))


def habilitation_context(
    settings: HabilitationSettings,
    resources: PoolHolder,
    tokens: TokenCheck,
    clock: Clock | None = None,
) -> HabilitationContext:
    return HabilitationContext(
        resources=resources,
        clock=clock or system_clock(settings.clock_offset_file),
        calendar=AccessCalendar(AccessHoursSettings().rules()),
        tokens=tokens,
        review_policy=ReviewPolicy(
            period=timedelta(days=settings.review_period_days),
            reminder_days_before=settings.review_reminder_days,
            default=ReviewDefault(settings.review_default),
        ),
        unused_after=timedelta(days=settings.unused_after_days),
        demand_period=timedelta(days=settings.demand_period_days),
        setup_retry_after_seconds=settings.setup_retry_after_seconds,
    )


def create_app(
    settings: HabilitationSettings | None = None,
    *,
    clock: Clock | None = None,
    jwks_http: httpx.AsyncClient | None = None,
) -> FastAPI:
    """The service; `clock` and `jwks_http` (how the identity service's keys are fetched) are
    for tests and embedding."""
    settings = settings or HabilitationSettings()
    broker = make_broker(
        settings.kafka_bootstrap_servers, client_id=settings.service_name, security=settings
    )

    def consumers(pool: asyncpg.Pool, dead_letters: DeadLetterPublisher) -> Iterable[Subscription]:
        return subscriptions(app.state.habilitation, pool, dead_letters)

    def every_round(
        name: str, run: Callable[[HabilitationContext], Awaitable[object]]
    ) -> PeriodicJob:
        async def round_() -> object:
            return await run(app.state.habilitation)

        return PeriodicJob(name, settings.deadlines_interval_seconds, round_)

    async def close_jwks() -> None:
        await tokens.aclose()

    app = create_service_app(
        settings,
        title="Kairos habilitation service",
        migrations_dir=MIGRATIONS,
        broker=broker,
        routers=[
            http_habilitations.router,
            http_rgc.router,
            http_reviews.router,
            http_demands.router,
            http_flags.router,
        ],
        consumers=consumers,
        periodic=[  # independent rounds: one failing does not hold the others back
            every_round("absences", apply_due),
            every_round("review-campaigns-opening", review_deadlines.open_due_campaigns),
            every_round("review-campaigns", review_deadlines.remind_and_close),
            every_round("demands", demands.settle_demands),
            every_round("ended-sessions", prune_ended_sessions),
        ],
        on_shutdown=[close_jwks],
    )
    tokens = jwks_client_from_settings(settings, http=jwks_http)
    app.state.habilitation = habilitation_context(settings, app.state.resources, tokens, clock)
    return app
