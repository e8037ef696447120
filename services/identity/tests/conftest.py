"""Fixtures for the identity service's integration tests: the real app on a fresh database and
the session's Kafka, a clock the tests move, and an operator who can log in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest_asyncio
from fastapi import FastAPI

from kairos_devstack.testing import services_running
from kairos_devstack.topics import create_platform_topics
from kairos_identity.adapters.organisations import Contact
from kairos_identity.bootstrap import create_app
from kairos_identity.config import IdentitySettings
from kairos_identity.service_layer.context import IdentityContext
from kairos_identity.service_layer.operators import create_operator
from kairos_shared.clock import ManualClock

# Monday 2 March 2026, 09:00 UTC: 10:00 in Paris, 13:00 in La Réunion — open everywhere.
MONDAY_MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPERATOR_PASSWORD = "Opérateur de garde, bureau 42"


@dataclass
class IdentityApi:
    app: FastAPI
    http: httpx.AsyncClient
    clock: ManualClock

    @property
    def context(self) -> IdentityContext:
        context: IdentityContext = self.app.state.identity
        return context

    async def login(self, login_id: str, password: str) -> httpx.Response:
        return await self.http.post(
            "/v1/sessions", json={"login_id": login_id, "password": password}
        )

    async def token(self, login_id: str, password: str) -> str:
        response = await self.login(login_id, password)
        assert response.status_code == 201, response.text
        return str(response.json()["access_token"])

    async def activate(self, login_id: str, provisional: str, new_password: str) -> str:
        """First login with provisional credentials, password change, full login: a token."""
        first = await self.token(login_id, provisional)
        changed = await self.http.post(
            "/v1/accounts/me/password",
            json={"current_password": provisional, "new_password": new_password},
            headers={"Authorization": f"Bearer {first}"},
        )
        assert changed.status_code == 204, changed.text
        return await self.token(login_id, new_password)


@pytest_asyncio.fixture(loop_scope="session")
async def platform_topics(kafka_bootstrap_servers: str) -> str:
    await create_platform_topics(kafka_bootstrap_servers)
    return kafka_bootstrap_servers


@pytest_asyncio.fixture(loop_scope="session")
async def identity_api(database_url: str, platform_topics: str) -> AsyncIterator[IdentityApi]:
    clock = ManualClock(MONDAY_MORNING)
    settings = IdentitySettings(
        database_url=database_url,
        kafka_bootstrap_servers=platform_topics,
        argon2_memory_kib=8 * 1024,  # lighter than production, still argon2id
        argon2_time_cost=1,
        consumer_group_prefix=f"test-identity-{uuid.uuid4().hex}",
        consumer_offset_reset="latest",  # not the events earlier tests left on the shared topics
        # Every request of the tests comes from one address and the clock stands still: the
        # request rates are off here, on in the tests of the rates (test_login_throttle.py).
        login_rate_per_address_burst=1_000_000,
        login_rate_global_burst=1_000_000,
    )
    app = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with services_running() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        # The groups have their partitions and positions (at the end) before a test publishes.
        await app.state.resources.messaging.wait_until_consuming()
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://identity")
        )
        yield IdentityApi(app, http, clock)


@pytest_asyncio.fixture(loop_scope="session")
async def operator_token(identity_api: IdentityApi) -> str:
    credentials = await create_operator(
        identity_api.context, Contact("Odile", "Perrin", "odile.perrin@francetravail.example")
    )
    return await identity_api.activate(
        credentials.login_id, credentials.provisional_password, OPERATOR_PASSWORD
    )
