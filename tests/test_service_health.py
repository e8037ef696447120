"""Each of the four services runs against the real PostgreSQL and Kafka, and says when it can't.

``/health/ready`` is 200 only when both answer; with Kafka unreachable the service still starts
(it retries in the background) and readiness is 503 naming Kafka as the reason.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
import yaml
from fastapi import FastAPI

from kairos_devstack.processes import free_port
from kairos_devstack.topics import SERVICES

ROOT = Path(__file__).resolve().parents[1]


def _app(service: str, database_url: str, kafka: str) -> FastAPI:
    config = importlib.import_module(f"kairos_{service}.config")
    bootstrap = importlib.import_module(f"kairos_{service}.bootstrap")
    settings = getattr(config, f"{service.capitalize()}Settings")(
        database_url=database_url,
        kafka_bootstrap_servers=kafka,
        readiness_timeout_seconds=1.0,
    )
    app: FastAPI = bootstrap.create_app(settings)
    return app


@asynccontextmanager
async def _running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://service") as client,
    ):
        yield client


async def _ready_status(client: httpx.AsyncClient, attempts: int = 100) -> httpx.Response:
    """Readiness once the background Kafka connection had its chance (no fixed sleep)."""
    response = await client.get("/health/ready")
    for _ in range(attempts):
        if response.status_code == 200:
            break
        await asyncio.sleep(0.1)
        response = await client.get("/health/ready")
    return response


@pytest.mark.parametrize("service", SERVICES)
async def test_service_is_ready_with_real_postgresql_and_kafka(
    service: str, database_url: str, kafka_bootstrap_servers: str
) -> None:
    async with _running(_app(service, database_url, kafka_bootstrap_servers)) as client:
        assert (await client.get("/health/live")).status_code == 200
        ready = await _ready_status(client)
        assert ready.status_code == 200, ready.text
        assert ready.json() == {
            "status": "ready",
            "checks": {"postgresql": "ok", "kafka": "ok", "outbox_relay": "ok"},
        }
        assert (await client.get("/openapi.json")).status_code == 200

    connection = await asyncpg.connect(database_url)
    try:  # its migrations ran: the history table exists in its own database
        assert await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    finally:
        await connection.close()


async def test_service_without_kafka_stays_up_and_is_not_ready(database_url: str) -> None:
    unreachable = f"127.0.0.1:{free_port()}"
    async with _running(_app("declaration", database_url, unreachable)) as client:
        assert (await client.get("/health/live")).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert checks["postgresql"] == "ok"
        assert "not connected yet" in checks["kafka"]


@pytest.mark.parametrize("service", SERVICES)
async def test_each_service_serves_the_committed_asyncapi_document(service: str) -> None:
    """`/asyncapi.yaml` is what `make schemas` committed (rendered from the same classes), and
    `/asyncapi.json` the same document; served without starting the service."""
    committed = (ROOT / "schemas" / "asyncapi.yaml").read_text(encoding="utf-8")
    app = _app(service, "postgresql://unused@127.0.0.1:1/unused", "127.0.0.1:1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        served = await client.get("/asyncapi.yaml")
        as_json = await client.get("/asyncapi.json")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/yaml")
    assert served.text == committed
    assert as_json.json() == yaml.safe_load(committed)
