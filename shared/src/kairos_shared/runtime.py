"""The process a service runs as: a FastAPI HTTP API and a FastStream Kafka app in one event loop.

:func:`create_service_app` gives the FastAPI application whose lifespan opens the database pool,
applies the service's migrations, connects the Kafka broker in the background, retrying until
Kafka answers (FastStream's FastAPI plugin is deprecated: we start the broker ourselves), and
stops all of it in reverse order.
:func:`serve` runs it with uvicorn under the service's logging configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import structlog
import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker

from kairos_shared.db import create_pool, ping
from kairos_shared.health import health_router
from kairos_shared.kafka import bootstrap_kafka
from kairos_shared.logging import configure_logging
from kairos_shared.migrations import apply_migrations
from kairos_shared.settings import ServiceSettings

log = structlog.get_logger(__name__)


class KafkaUnavailableError(RuntimeError):
    """The broker did not answer a ping."""


@dataclass
class ServiceResources:
    """What the lifespan opened, for the service's routes and handlers to use."""

    broker: KafkaBroker
    pool: asyncpg.Pool | None = None
    kafka_connected: bool = False
    kafka_error: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def require_pool(self) -> asyncpg.Pool:
        if self.pool is None:
            raise RuntimeError("the database pool is not open (outside the app's lifespan?)")
        return self.pool


async def _connect_kafka(resources: ServiceResources, settings: ServiceSettings) -> None:
    """Start the broker, retrying with back-off: a service may start before Kafka does; until
    it is connected, readiness says so (503) and the process stays up."""
    delay = 0.5
    while True:
        try:
            # Bootstrap a bare client first: a FastStream broker whose start() failed leaks its
            # producer, so the broker is only started once Kafka has answered.
            await bootstrap_kafka(settings.kafka_bootstrap_servers)
            await resources.broker.start()
        except Exception as error:  # noqa: BLE001 - any failure to connect is retried
            resources.kafka_error = f"{type(error).__name__}: {error}"
            log.warning("kafka not reachable, retrying", error=resources.kafka_error, in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, settings.kafka_connect_retry_max_seconds)
        else:
            resources.kafka_connected = True
            resources.kafka_error = None
            log.info("kafka connected", bootstrap_servers=settings.kafka_bootstrap_servers)
            return


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    migrations_dir: Path,
    broker: KafkaBroker,
    routers: Iterable[APIRouter] = (),
) -> FastAPI:
    resources = ServiceResources(broker=broker)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(
            settings.database_url.get_secret_value(),
            min_size=settings.db_pool_min_size,
            max_size=settings.db_pool_max_size,
        )
        try:
            async with pool.acquire() as connection:
                applied = await apply_migrations(connection, migrations_dir)
            log.info(
                "migrations applied", count=len(applied), versions=[m.version for m in applied]
            )
            resources.pool = pool
            connecting = asyncio.create_task(_connect_kafka(resources, settings))
            log.info("service started", http_port=settings.http_port)
            try:
                yield
            finally:
                connecting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await connecting
                if resources.kafka_connected:
                    await broker.stop()
                    resources.kafka_connected = False
        finally:
            resources.pool = None
            await pool.close()
            log.info("service stopped")

    async def database_probe() -> None:
        await ping(resources.require_pool(), settings.readiness_timeout_seconds)

    async def kafka_probe() -> None:
        if not resources.kafka_connected:
            reason = f": {resources.kafka_error}" if resources.kafka_error else ""
            raise KafkaUnavailableError(f"not connected yet{reason}")
        if not await broker.ping(timeout=settings.readiness_timeout_seconds):
            raise KafkaUnavailableError(f"no answer from {settings.kafka_bootstrap_servers}")

    app = FastAPI(title=title, lifespan=lifespan)
    app.state.resources = resources
    app.include_router(
        health_router(
            {"postgresql": database_probe, "kafka": kafka_probe},
            timeout=settings.readiness_timeout_seconds,
        )
    )
    for router in routers:
        app.include_router(router)
    return app


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
