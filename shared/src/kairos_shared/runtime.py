"""The process a service runs as: a FastAPI HTTP API and a FastStream Kafka app in one event loop.

:func:`create_service_app` gives the FastAPI application whose lifespan opens the database pool,
applies the shared and the service's migrations, starts its messaging (subscriptions, outbox
relay; Kafka connected in the background, see :mod:`kairos_shared.messaging` — FastStream's
FastAPI plugin is deprecated: we start the broker ourselves), and stops all of it in reverse
order. Every request runs in a correlation scope (``X-Correlation-ID``) and a server span
(:mod:`kairos_shared.tracing`), and is counted in the app's metrics, served at ``/metrics``
(:mod:`kairos_shared.metrics`).
:func:`serve` runs it with uvicorn under the service's logging configuration.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import structlog
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker

from kairos_shared.contracts import contracts_router
from kairos_shared.correlation import CorrelationIdMiddleware
from kairos_shared.db import create_pool, ping
from kairos_shared.health import health_router
from kairos_shared.limits import limit_body_size
from kairos_shared.logging import configure_logging
from kairos_shared.messaging import ConsumerFactory, Messaging
from kairos_shared.metrics import (
    MetricsMiddleware,
    ServiceMetrics,
    consumer_lag,
    metrics_router,
    outbox_backlog,
)
from kairos_shared.migrations import apply_migrations
from kairos_shared.periodic import PeriodicJob
from kairos_shared.problems import (
    document_problems,
    install_problem_handlers,
    invalid_fields,
    problem_response,
)
from kairos_shared.settings import ServiceSettings
from kairos_shared.tracing import Tracing, TracingMiddleware, build_tracer_provider

log = structlog.get_logger(__name__)

SHARED_MIGRATIONS = Path(__file__).parent / "migrations"
"""The outbox and inbox tables, applied to every service's database before its own."""


@dataclass
class ServiceResources:
    """What the lifespan opened, for the service's routes and handlers to use."""

    messaging: Messaging
    metrics: ServiceMetrics
    tracing: Tracing
    """Its tracer; ``tracing.use(provider)`` before the lifespan starts to trace with yours."""
    pool: asyncpg.Pool | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def require_pool(self) -> asyncpg.Pool:
        if self.pool is None:
            raise RuntimeError("the database pool is not open (outside the app's lifespan?)")
        return self.pool


_POOL_CLOSE_SECONDS = 10.0


async def _close_pool(pool: asyncpg.Pool) -> None:
    """Close gracefully, but never hang a shutdown on a connection still in use."""
    try:
        await asyncio.wait_for(pool.close(), _POOL_CLOSE_SECONDS)
    except TimeoutError:
        log.warning("database connections still in use at shutdown: terminated")
        pool.terminate()


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    migrations_dir: Path,
    broker: KafkaBroker,
    routers: Iterable[APIRouter] = (),
    consumers: ConsumerFactory | None = None,
    periodic: Sequence[PeriodicJob] = (),
    on_shutdown: Sequence[Callable[[], Awaitable[object]]] = (),
) -> FastAPI:
    """The service's app: its database (migrated), Kafka consumers and outbox relay, periodic
    jobs, health and metrics routes, started and stopped with the app's lifespan; `on_shutdown`
    closes what the service wired itself (HTTP clients...), after its consumers stopped."""
    metrics = ServiceMetrics(
        settings.service_name, scrape_timeout=settings.readiness_timeout_seconds
    )
    tracing = Tracing()
    messaging = Messaging(settings, broker, consumers, metrics=metrics, tracing=tracing)
    resources = ServiceResources(messaging=messaging, metrics=metrics, tracing=tracing)
    metrics.add_scrape_source(
        "outbox", outbox_backlog(lambda: resources.pool, settings.readiness_timeout_seconds)
    )
    metrics.add_scrape_source("consumer_lag", consumer_lag(messaging.kafka_consumers))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        _start_tracing(tracing, settings)
        try:
            async with _running(resources, settings, migrations_dir, periodic, on_shutdown):
                yield
        finally:
            tracing.shutdown()

    async def database_probe() -> None:
        await ping(resources.require_pool(), settings.readiness_timeout_seconds)

    app = FastAPI(title=title, lifespan=lifespan)
    limit_body_size(app, settings.http_max_body_bytes)  # innermost: the 413s are logged, counted
    app.add_middleware(CorrelationIdMiddleware)
    app.add_middleware(TracingMiddleware, tracing=tracing)  # outside: logs carry the trace id
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    install_problem_handlers(app)
    _refuse_unstorable_text(app)
    document_problems(app)
    app.state.resources = resources
    app.include_router(
        health_router(
            {
                "postgresql": database_probe,
                "kafka": messaging.probe_kafka,
                "outbox_relay": messaging.probe_relay,
            },
            timeout=settings.readiness_timeout_seconds,
        )
    )
    app.include_router(metrics_router(metrics))
    app.include_router(contracts_router())
    for router in routers:
        app.include_router(router)
    return app


def _refuse_unstorable_text(app: FastAPI) -> None:
    """Text PostgreSQL cannot store (a NUL character) is the request's fault: a 422, not a 500.
    The statement failed, so its transaction changed nothing."""

    async def on_unstorable(request: Request, _error: Exception) -> JSONResponse:
        detail = "text must not contain NUL (U+0000) characters"
        return problem_response(invalid_fields([], detail=detail), request)

    for error in (
        asyncpg.exceptions.CharacterNotInRepertoireError,
        asyncpg.exceptions.UntranslatableCharacterError,
    ):
        app.add_exception_handler(error, on_unstorable)


@asynccontextmanager
async def _running(
    resources: ServiceResources,
    settings: ServiceSettings,
    migrations_dir: Path,
    periodic: Sequence[PeriodicJob],
    on_shutdown: Sequence[Callable[[], Awaitable[object]]],
) -> AsyncIterator[None]:
    """The database pool (migrated), messaging and periodic jobs, stopped in reverse order."""
    pool = await create_pool(
        settings.database_url.get_secret_value(),
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
    )
    try:
        async with pool.acquire() as connection:
            infra = await apply_migrations(connection, SHARED_MIGRATIONS, component="kairos_shared")
            own = await apply_migrations(
                connection, migrations_dir, component=settings.service_name
            )
        log.info(
            "migrations applied",
            shared=[m.version for m in infra],
            service=[m.version for m in own],
        )
        resources.pool = pool
        await resources.messaging.start(pool)
        jobs = [asyncio.create_task(job.loop(), name=job.name) for job in periodic]
        log.info("service started", http_port=settings.http_port)
        try:
            yield
        finally:
            for task in jobs:
                task.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            await resources.messaging.stop()
            for close in on_shutdown:
                await close()
    finally:
        resources.pool = None
        await _close_pool(pool)
        log.info("service stopped")


def _start_tracing(tracing: Tracing, settings: ServiceSettings) -> None:
    """Trace as the settings say, unless a provider was given (tests, embedding)."""
    if tracing.enabled:
        return
    provider = build_tracer_provider(
        settings.service_name,
        settings.otel_traces_exporter,
        otlp_endpoint=settings.otel_exporter_otlp_endpoint,
    )
    if provider is not None:
        tracing.use(provider, owned=True)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run the service until SIGINT/SIGTERM, then shut down gracefully."""
    configure_logging(settings.service_name, level=settings.log_level, fmt=settings.log_format)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
