"""The one place that wires the declaration service."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI

from kairos_declaration.config import DeclarationSettings
from kairos_declaration.domain.deadlines import DeadlinePolicy
from kairos_declaration.entrypoints import http_declarations, http_sessions
from kairos_declaration.entrypoints.consumers import subscriptions
from kairos_declaration.service_layer.access import prune_ended_sessions
from kairos_declaration.service_layer.context import DeclarationContext, PoolHolder, TokenCheck
from kairos_shared import idempotency
from kairos_shared.access_hours import AccessCalendar, AccessHoursSettings
from kairos_shared.clock import Clock, system_clock
from kairos_shared.dead_letters import DeadLetterPublisher
from kairos_shared.jwks import jwks_client_from_settings
from kairos_shared.kafka import make_broker
from kairos_shared.messaging import Subscription
from kairos_shared.periodic import PeriodicJob
from kairos_shared.rate_limits import RateLimiter, install_rate_limit_handler
from kairos_shared.runtime import create_service_app

MIGRATIONS = Path(str(files("kairos_declaration") / "migrations"))


def declaration_context(
    settings: DeclarationSettings, resources: PoolHolder, tokens: TokenCheck, clock: Clock
) -> DeclarationContext:
    return DeclarationContext(
        resources=resources,
        clock=clock,
        calendar=AccessCalendar(AccessHoursSettings().rules()),
        tokens=tokens,
        deadlines=DeadlinePolicy(
            event_days=settings.deadline_event_days,
            attendance_working_day=settings.deadline_attendance_working_day,
        ),
        reads=RateLimiter(settings.reads_per_second, settings.reads_burst, clock),
        page_size_max=settings.page_size_max,
        batch_rows_max=settings.batch_rows_max,
        setup_retry_after_seconds=settings.setup_retry_after_seconds,
    )


def create_app(
    settings: DeclarationSettings | None = None,
    *,
    clock: Clock | None = None,
    jwks_http: httpx.AsyncClient | None = None,
) -> FastAPI:
    """The service; `clock` and `jwks_http` (how the identity service's keys are fetched) are
    for tests and embedding."""
    settings = settings or DeclarationSettings()
    clock = clock or system_clock(settings.clock_offset_file)
    broker = make_broker(
        settings.kafka_bootstrap_servers, client_id=settings.service_name, security=settings
    )
    tokens = jwks_client_from_settings(settings, http=jwks_http)

    def consumers(pool: asyncpg.Pool, dead_letters: DeadLetterPublisher) -> Iterable[Subscription]:
        return subscriptions(app.state.declaration, pool, dead_letters)

    async def close_jwks() -> None:
        await tokens.aclose()

    def pool() -> asyncpg.Pool:  # open once the app's lifespan started
        return app.state.resources.require_pool()  # type: ignore[no-any-return] # app.state is untyped

    app = create_service_app(
        settings,
        title="Kairos declaration service",
        migrations_dir=MIGRATIONS,
        broker=broker,
        routers=[http_sessions.router, http_declarations.router],
        consumers=consumers,
        periodic=[
            idempotency.pruning_job(pool, clock),
            PeriodicJob(
                "ended-sessions", 3600.0, lambda: prune_ended_sessions(app.state.declaration)
            ),
        ],
        on_shutdown=[close_jwks],
    )
    install_rate_limit_handler(app)
    app.state.declaration = declaration_context(settings, app.state.resources, tokens, clock)
    return app
