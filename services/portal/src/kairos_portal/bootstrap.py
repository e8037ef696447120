"""The one place that wires the portal: settings, the services' HTTP clients, the web
sessions' database (migrated at start-up), the pages, the static files, the safeguards."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

import structlog
import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from kairos_portal.adapters.services_http import HttpServiceApi
from kairos_portal.adapters.session_store import PostgresSessionStore
from kairos_portal.config import PortalSettings
from kairos_portal.entrypoints import (
    pages_amending,
    pages_attendance,
    pages_coadha,
    pages_home,
    pages_kairos,
    pages_sign_in,
)
from kairos_portal.entrypoints.security import SecurityHeaders
from kairos_portal.entrypoints.web import (
    CsrfRefused,
    Web,
    csrf_page,
    make_templates,
    service_refused_page,
    session_ended_page,
)
from kairos_portal.service_layer import web_sessions
from kairos_portal.service_layer.ports import ServiceApi, ServiceRefused, SessionStore
from kairos_portal.service_layer.web_sessions import Portal, SessionEnded
from kairos_shared.clock import Clock, system_clock
from kairos_shared.db import create_pool
from kairos_shared.health import Probe, health_router
from kairos_shared.logging import configure_logging
from kairos_shared.migrations import apply_migrations

MIGRATIONS = Path(str(files("kairos_portal") / "migrations"))
STATIC = Path(str(files("kairos_portal") / "static"))
CLEANUP_SECONDS = 60.0
log = structlog.get_logger("kairos_portal")


def create_app(
    settings: PortalSettings | None = None,
    *,
    api: ServiceApi | None = None,
    sessions: SessionStore | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The portal; ``api``, ``sessions`` and ``clock`` are for tests (no database is opened
    when ``sessions`` is given)."""
    settings = settings or PortalSettings()
    http_api = None if api is not None else HttpServiceApi(
        settings.service_urls(), timeout=settings.service_timeout_seconds
    )  # fmt: skip
    store = sessions if sessions is not None else PostgresSessionStore()
    portal = Portal(
        api=api or http_api,  # type: ignore[arg-type] # one of them is set
        sessions=store,
        clock=clock or system_clock(settings.clock_offset_file),
        idle_timeout=settings.idle_timeout,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if isinstance(store, PostgresSessionStore):
                await stack.enter_async_context(_database(settings, store))
            if http_api is not None:
                stack.push_async_callback(http_api.aclose)
            cleanup = asyncio.create_task(_forget_idle_sessions(portal), name="idle-sessions")
            stack.callback(cleanup.cancel)
            log.info("portal started", http_port=settings.http_port, theme=settings.theme)
            yield

    app = FastAPI(title="Kairos portal", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)  # fmt: skip
    app.state.web = Web(
        portal=portal,
        templates=make_templates(settings.theme, settings.password_min_length),
        theme=settings.theme,
        secure_cookies=not settings.development,
    )
    for router in (pages_sign_in.router, pages_home.router, pages_coadha.router,
                   pages_kairos.router, pages_attendance.router,
                   pages_amending.router):  # fmt: skip
        app.include_router(router)
    app.include_router(health_router({"database": _probe(store)}, timeout=2.0))
    app.mount("/static", StaticFiles(directory=settings.static_dir or STATIC), name="static")
    app.add_exception_handler(ServiceRefused, service_refused_page)
    app.add_exception_handler(SessionEnded, session_ended_page)
    app.add_exception_handler(CsrfRefused, csrf_page)
    app.add_middleware(SecurityHeaders)
    return app


def _probe(store: SessionStore) -> Probe:
    async def database() -> None:
        if isinstance(store, PostgresSessionStore):
            await store.ping(2.0)

    return database


@asynccontextmanager
async def _database(settings: PortalSettings, store: PostgresSessionStore) -> AsyncIterator[None]:
    pool = await create_pool(
        settings.database_url.get_secret_value(),
        min_size=settings.db_pool_min_size, max_size=settings.db_pool_max_size,
    )  # fmt: skip
    try:
        async with pool.acquire() as connection:
            applied = await apply_migrations(connection, MIGRATIONS, component="portal")
        log.info("migrations applied", portal=[m.version for m in applied])
        store.attach(pool)
        yield
    finally:
        store.attach(None)
        await pool.close()


async def _forget_idle_sessions(portal: Portal) -> None:
    while True:
        await asyncio.sleep(CLEANUP_SECONDS)
        try:
            forgotten = await web_sessions.forget_idle(portal)
        except Exception:
            log.exception("idle sessions not deleted")
        else:
            if forgotten:
                log.info("idle web sessions deleted", count=forgotten)


def serve(app: FastAPI, settings: PortalSettings) -> None:
    """Run the portal until SIGINT/SIGTERM."""
    configure_logging("portal", level=settings.log_level, fmt=settings.log_format)
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None,
                access_log=False, lifespan="on")  # fmt: skip
