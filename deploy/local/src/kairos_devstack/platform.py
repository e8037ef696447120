"""The platform in one process, for integration tests: the identity and habilitation services
(and the declaration service when asked), each on its own fresh database, exchanging events
through a real Kafka, under one clock the tests move; helpers for the steps every story
needs (an adhesion validated, a person habilitated and logged in...)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from opentelemetry.trace import TracerProvider

from kairos_devstack.processes import free_port
from kairos_devstack.smtp_sink import MailStore, StoringHandler
from kairos_devstack.story_clients import organisation_known
from kairos_devstack.testing import adhesion_request, services_running
from kairos_devstack.topics import create_platform_topics
from kairos_habilitation.bootstrap import create_app as create_habilitation_app
from kairos_habilitation.config import HabilitationSettings
from kairos_habilitation.service_layer.context import HabilitationContext
from kairos_identity.adapters.organisations import Contact
from kairos_identity.bootstrap import create_app as create_identity_app
from kairos_identity.config import IdentitySettings
from kairos_identity.service_layer.operators import create_operator
from kairos_shared.clock import ManualClock

# Monday 2 March 2026, 09:00 UTC: 10:00 in Paris — open everywhere in France.
MONDAY_MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "Une phrase de passe pour les tests, 2026"
T = TypeVar("T")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_authorisation(text: str = "autorisation signée") -> dict[str, str]:
    return {
        "signed_by": "Inès Roux",
        "signed_on": "2026-03-01",
        "document_sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


@dataclass(frozen=True)
class Organisation:
    id: str
    rgc_account_id: str
    rgc_token: str
    seed: int
    rgc_login_id: str = ""
    rgc_provisional_password: str = ""
    """Shown once to the validating operator (K6): tests check no e-mail ever carries it."""


@dataclass
class Platform:
    identity: FastAPI
    identity_http: httpx.AsyncClient
    app: FastAPI
    """The habilitation service."""
    http: httpx.AsyncClient
    clock: ManualClock
    kafka: str
    operator_token: str = ""
    declaration: FastAPI | None = None
    declaration_http: httpx.AsyncClient | None = None
    notification: FastAPI | None = None
    notification_http: httpx.AsyncClient | None = None
    mails: MailStore | None = None
    """What the SMTP sink received (with the notification service)."""
    login_ids: dict[str, str] = field(default_factory=dict)
    """The login id behind each token `login` returned (to log in again after time passed)."""
    database_urls: dict[str, str] = field(default_factory=dict)
    """Each running service's database (to read the state it holds, as `kairos reconcile`)."""

    @property
    def context(self) -> HabilitationContext:
        context: HabilitationContext = self.app.state.habilitation
        return context

    async def eventually(
        self, probe: Callable[[], Awaitable[T | None]], *, timeout: float = 30.0
    ) -> T:
        """`probe()`'s first result that is not None (events travel through Kafka)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = await probe()
            if result is not None:
                return result
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"still nothing after {timeout} s")
            await asyncio.sleep(0.05)

    async def published(self, event_type: str, organisation_id: str) -> list[dict[str, Any]]:
        """The data of the events of `event_type` about `organisation_id` this service wrote
        to its outbox, in order (the service also replays the events of other tests' organisations
        from the shared topics)."""
        async with self.context.pool.acquire() as connection:
            rows = await connection.fetch(
                """
                SELECT value FROM outbox
                WHERE header_values[array_position(header_names, 'ce_type')] = $1 ORDER BY id
                """,
                event_type.encode(),
            )
        found = [json.loads(row["value"]) for row in rows]
        return [data for data in found if data.get("organisation_id") == organisation_id]

    async def activate(self, login_id: str, provisional: str) -> str:
        """First login, password change, full login (identity): an access token."""
        first = await self.login(login_id, provisional)
        changed = await self.identity_http.post(
            "/v1/accounts/me/password",
            json={"current_password": provisional, "new_password": PASSWORD},
            headers=bearer(first),
        )
        assert changed.status_code == 204, changed.text
        return await self.login(login_id, PASSWORD)

    async def login(self, login_id: str, password: str) -> str:
        response = await self.identity_http.post(
            "/v1/sessions", json={"login_id": login_id, "password": password}
        )
        assert response.status_code == 201, response.text
        token = str(response.json()["access_token"])
        self.login_ids[token] = login_id
        return token

    async def login_status(self, token: str) -> int:
        """The status of a new login by the person behind `token` (201 when still allowed)."""
        response = await self.identity_http.post(
            "/v1/sessions", json={"login_id": self.login_ids[token], "password": PASSWORD}
        )
        return response.status_code

    async def relogin(self, token: str) -> str:
        """A fresh token for the person behind `token` (tokens live 10 minutes of the clock)."""
        return await self.login(self.login_ids[token], PASSWORD)

    async def advance(self, by: timedelta) -> None:
        """Move the clock on; the operator logs in again."""
        self.clock.advance(by)
        self.operator_token = await self.relogin(self.operator_token)

    async def organisation(
        self, seed: int, *, activate_rgc: bool = True, postal_code: str = "69002"
    ) -> Organisation:
        """An adhesion validated by the operator, its RGC logged in, and the organisation
        known here (through AdhesionValidated); `postal_code` places it in its zone (K4)."""
        body = adhesion_request(seed, postal_code)
        requested = await self.identity_http.post("/v1/organisations", json=body)
        organisation_id = requested.json()["organisation_id"]
        rgc = (await self.identity_http.post(
            f"/v1/organisations/{organisation_id}/validation", headers=bearer(self.operator_token)
        )).json()  # fmt: skip
        token = (
            await self.activate(rgc["login_id"], rgc["provisional_password"])
            if activate_rgc
            else ""
        )
        organisation = Organisation(
            organisation_id, rgc["account_id"], token, seed, rgc["login_id"],
            rgc["provisional_password"],
        )  # fmt: skip
        await organisation_known(self.http, organisation_id, self.operator_token)
        return organisation

    async def post_of(self, organisation_id: str) -> dict[str, Any] | None:
        """The RGC post as operators see it, once the organisation is known here."""
        response = await self.http.get(
            f"/v1/organisations/{organisation_id}/rgc", headers=bearer(self.operator_token)
        )
        found: dict[str, Any] | None = response.json() if response.status_code == 200 else None
        return found

    async def validate_designation(self, designation_id: str) -> dict[str, Any]:
        """The operator validates an RGC designation (here) and, once the identity service has
        opened the account, retrieves its provisional credentials (shown once)."""
        validated = await self.http.post(
            f"/v1/rgc-designations/{designation_id}/validation",
            headers=bearer(self.operator_token),
        )
        assert validated.status_code == 200, validated.text
        url = f"/v1/rgc-designations/{designation_id}/provisional-credentials"

        async def retrieved() -> dict[str, Any] | None:
            response = await self.identity_http.get(url, headers=bearer(self.operator_token))
            if response.status_code == 404:
                return None  # the account opens when identity consumed RgcDesignated
            assert response.status_code == 200, response.text
            return response.json()  # type: ignore[no-any-return] # JSON

        return await self.eventually(retrieved)

    async def habilitate(
        self, organisation_id: str, token: str, email: str, *, role: str = "user"
    ) -> httpx.Response:
        return await self.http.post(
            f"/v1/organisations/{organisation_id}/habilitations",
            json={
                "role": role,
                "person": {"first_name": "Fanny", "last_name": "Martin", "email": email},
                "function": "formatrice" if role == "user" else "Directrice",
                "authorisation": signed_authorisation(email),
                "employee_attested": True,
            },
            headers=bearer(token),
        )

    async def habilitation(self, habilitation_id: str) -> dict[str, Any]:
        response = await self.http.get(
            f"/v1/habilitations/{habilitation_id}", headers=bearer(self.operator_token)
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return] # JSON

    async def active_account(self, habilitation_id: str) -> str:
        """The habilitation's account id, once the identity service opened the account and the
        habilitation service activated the habilitation."""

        async def active() -> str | None:
            view = await self.habilitation(habilitation_id)
            return view["account_id"] if view["status"] == "active" else None

        return await self.eventually(active)

    async def register_session(
        self, organisation_id: str, token: str, session: dict[str, Any]
    ) -> httpx.Response:
        """Register a training session with the declaration service, retried with one
        idempotency key until accepted (once that service has seen the events allowing it)."""
        declaration_http = self.declaration_http
        assert declaration_http is not None, "a platform started with_declaration=True"
        key = str(uuid.uuid4())  # a refused request leaves no key behind: the same one is retried

        async def registered() -> httpx.Response | None:
            response = await declaration_http.post(
                f"/v1/organisations/{organisation_id}/sessions", json=session,
                headers={**bearer(token), "Idempotency-Key": key},
            )  # fmt: skip
            return response if response.status_code == 201 else None

        return await self.eventually(registered)

    async def active_holder(
        self, organisation: Organisation, email: str, *, role: str = "user"
    ) -> tuple[str, str]:
        """Habilitate a person, wait for the account (identity) and the activation (here), let
        the RGC hand over the credentials, and log the person in: (habilitation id, token)."""
        recorded = await self.habilitate(organisation.id, organisation.rgc_token, email, role=role)
        assert recorded.status_code == 201, recorded.text
        habilitation_id = recorded.json()["habilitation_id"]
        account_id = await self.active_account(habilitation_id)
        credentials = await self.identity_http.get(
            f"/v1/accounts/{account_id}/provisional-credentials",
            headers=bearer(organisation.rgc_token),
        )
        assert credentials.status_code == 200, credentials.text
        body = credentials.json()
        return habilitation_id, await self.activate(body["login_id"], body["provisional_password"])


@contextlib.asynccontextmanager
async def running_platform(
    new_database: Callable[[], Awaitable[str]],
    kafka_bootstrap_servers: str,
    *,
    with_declaration: bool = False,
    with_notification: bool = False,
    tracer_provider: TracerProvider | None = None,
) -> AsyncIterator[Platform]:
    """The services started (lifespans entered) and an operator logged in; all stopped after.
    With `tracer_provider`, every service traces with it (the caller shuts it down)."""
    await create_platform_topics(kafka_bootstrap_servers)
    clock = ManualClock(MONDAY_MORNING)
    run = uuid.uuid4().hex
    urls = {"identity": await new_database(), "habilitation": await new_database()}
    identity = create_identity_app(
        IdentitySettings(
            database_url=urls["identity"], kafka_bootstrap_servers=kafka_bootstrap_servers,
            argon2_memory_kib=8 * 1024, argon2_time_cost=1,
            consumer_group_prefix=f"test-identity-{run}", consumer_offset_reset="latest",
            # every adhesion of the tests comes from one address: not throttled here
            adhesion_requests_free=100_000, adhesion_requests_lock_after=200_000,
            login_rate_per_address_burst=1_000_000, login_rate_global_burst=1_000_000,
        ),
        clock=clock,
    )  # fmt: skip
    async with services_running() as stack:
        identity_http = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=identity), base_url="http://identity"
            )
        )
        app = create_habilitation_app(
            HabilitationSettings(
                database_url=urls["habilitation"], kafka_bootstrap_servers=kafka_bootstrap_servers,
                consumer_group_prefix=f"test-habilitation-{run}", consumer_offset_reset="latest",
                identity_jwks_url="http://identity/.well-known/jwks.json",
                deadlines_interval_seconds=3600,  # the tests run the schedulers themselves
            ),
            clock=clock, jwks_http=identity_http,
        )  # fmt: skip
        _trace_with(tracer_provider, identity, app)
        await stack.enter_async_context(identity.router.lifespan_context(identity))
        await stack.enter_async_context(app.router.lifespan_context(app))
        http = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://habilitation"
            )
        )
        platform = Platform(identity, identity_http, app, http, clock, kafka_bootstrap_servers)
        platform.database_urls.update(urls)
        if with_declaration:
            platform.database_urls["declaration"] = await new_database()
            await _start_declaration(
                platform, stack, platform.database_urls["declaration"], run, tracer_provider
            )
        if with_notification:
            platform.database_urls["notification"] = await new_database()
            await _start_notification(
                platform, stack, platform.database_urls["notification"], run, tracer_provider
            )
        # Consumer groups start at the end of the shared topics (not at other tests' history)
        # and are in place before this platform publishes anything.
        for service in (identity, app, platform.declaration, platform.notification):
            if service is not None:
                await service.state.resources.messaging.wait_until_consuming()
        operator = await create_operator(
            identity.state.identity,
            Contact("Odile", "Perrin", "odile.perrin@francetravail.example"),
        )
        platform.operator_token = await platform.activate(
            operator.login_id, operator.provisional_password
        )
        yield platform


def _trace_with(provider: TracerProvider | None, *apps: FastAPI) -> None:
    """Before their lifespans start: the apps trace with `provider` (`create_service_app`)."""
    if provider is not None:
        for app in apps:
            app.state.resources.tracing.use(provider)


async def _start_declaration(
    platform: Platform,
    stack: contextlib.AsyncExitStack,
    database_url: str,
    run: str,
    tracer_provider: TracerProvider | None = None,
) -> None:
    from kairos_declaration.bootstrap import create_app as create_declaration_app  # noqa: PLC0415 - only when asked
    from kairos_declaration.config import DeclarationSettings  # noqa: PLC0415 - only when asked

    declaration = create_declaration_app(
        DeclarationSettings(
            database_url=database_url, kafka_bootstrap_servers=platform.kafka,
            consumer_group_prefix=f"test-declaration-{run}", consumer_offset_reset="latest",
            identity_jwks_url="http://identity/.well-known/jwks.json",
        ),
        clock=platform.clock, jwks_http=platform.identity_http,
    )  # fmt: skip
    _trace_with(tracer_provider, declaration)
    await stack.enter_async_context(declaration.router.lifespan_context(declaration))
    platform.declaration = declaration
    platform.declaration_http = await stack.enter_async_context(
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=declaration), base_url="http://declaration"
        )
    )


async def _start_notification(
    platform: Platform,
    stack: contextlib.AsyncExitStack,
    database_url: str,
    run: str,
    tracer_provider: TracerProvider | None = None,
) -> None:
    """The notification service, sending to an SMTP sink on a free port (what `make run`
    uses); the tests deliver the queue themselves."""
    from kairos_notification.bootstrap import create_app as create_notification_app  # noqa: PLC0415 - only when asked
    from kairos_notification.config import NotificationSettings  # noqa: PLC0415 - only when asked

    platform.mails = MailStore()
    sink = Controller(StoringHandler(platform.mails), hostname="127.0.0.1", port=free_port())
    sink.start()
    stack.callback(sink.stop)
    notification = create_notification_app(
        NotificationSettings(
            database_url=database_url, kafka_bootstrap_servers=platform.kafka,
            consumer_group_prefix=f"test-notification-{run}", consumer_offset_reset="latest",
            identity_jwks_url="http://identity/.well-known/jwks.json",
            smtp_host="127.0.0.1", smtp_port=sink.port, smtp_timeout_seconds=10,
            delivery_interval_seconds=3600,
        ),
        clock=platform.clock, jwks_http=platform.identity_http,
    )  # fmt: skip
    _trace_with(tracer_provider, notification)
    await stack.enter_async_context(notification.router.lifespan_context(notification))
    platform.notification = notification
    platform.notification_http = await stack.enter_async_context(
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=notification), base_url="http://notification"
        )
    )
