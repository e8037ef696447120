"""Who may declare (K17), decided from the declaration service's own view of the identity and
habilitation events (K9): the events go through the session's real Kafka to the service's
consumers and its real PostgreSQL; a probe route stands in for the declaration endpoints. A
habilitation ended, a session ended, an organisation suspended or an RGC post vacated takes
effect as soon as its event is consumed; events delivered twice or out of order end right."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, FastAPI

from kairos_declaration.adapters import access_view
from kairos_declaration.config import DeclarationSettings
from kairos_declaration.domain.access import Allowed, may_declare
from kairos_declaration.entrypoints.auth import Context, CurrentActor
from kairos_declaration.entrypoints.consumers import (
    habilitation_handlers,
    identity_handlers,
    subscriptions,
)
from kairos_declaration.service_layer.access import (
    ENDED_SESSION_MEMORY,
    declarer_scope,
    prune_ended_sessions,
    reader_scope,
)
from kairos_declaration.service_layer.context import DeclarationContext, TokenCheck
from kairos_devstack.testing import services_running, valid_siret
from kairos_devstack.topics import create_platform_topics
from kairos_schemas import Event, to_cloudevent
from kairos_schemas import habilitation as hab
from kairos_schemas import identity as idn
from kairos_shared.access_hours import AccessCalendar, OpeningRules
from kairos_shared.clock import ManualClock
from kairos_shared.dead_letters import DeadLetterPublisher
from kairos_shared.inbox import Delivery
from kairos_shared.jwks import JwksClient
from kairos_shared.kafka import make_broker
from kairos_shared.messaging import Subscription
from kairos_shared.migrations import apply_migrations
from kairos_shared.problems import install_problem_handlers
from kairos_shared.runtime import create_service_app
from kairos_shared.tokens import TokenSigner

MIGRATIONS = Path(str(files("kairos_declaration") / "migrations"))
MONDAY = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 10:00 in Guyane, 14:00 in Paris: open
Response = httpx.Response

probe = APIRouter(prefix="/probe/organisations/{organisation_id}/declarations")


@probe.post("")
async def declare(
    organisation_id: uuid.UUID, actor: CurrentActor, context: Context
) -> dict[str, Any]:
    async with context.pool.acquire() as connection:
        scope = await declarer_scope(context, connection, actor, organisation_id)
    habilitation = None if scope.habilitation_id is None else str(scope.habilitation_id)
    return {"zone": scope.zone.value, "habilitation_id": habilitation, "as_rgc": scope.as_rgc}


@probe.get("")
async def read(organisation_id: uuid.UUID, actor: CurrentActor, context: Context) -> dict[str, Any]:
    async with context.pool.acquire() as connection:
        scope = await reader_scope(context, connection, actor, organisation_id)
    return {"zone": scope.zone.value}


def declaration_app(
    settings: DeclarationSettings, clock: ManualClock, tokens: TokenCheck
) -> FastAPI:
    """What bootstrap.py wires, reduced to the access view and the probe."""

    def consumers(pool: asyncpg.Pool, dead_letters: DeadLetterPublisher) -> Iterable[Subscription]:
        return subscriptions(app.state.declaration, pool, dead_letters)

    app = create_service_app(
        settings, title="declaration access view", migrations_dir=MIGRATIONS,
        broker=make_broker(settings.kafka_bootstrap_servers, client_id=settings.service_name),
        routers=[probe], consumers=consumers,
    )  # fmt: skip
    calendar = AccessCalendar(OpeningRules())
    app.state.declaration = DeclarationContext(app.state.resources, clock, calendar, tokens)
    return app


def new_id() -> str:
    return str(uuid.uuid4())


def at(seconds: float) -> datetime:
    return MONDAY + timedelta(seconds=seconds)


def validated(organisation: str, rgc: str, when: float = 0) -> idn.AdhesionValidated:
    head = idn.HeadOfOrganisation(
        first_name="Inès", last_name="Roux", email="ines@of.example", function="Directrice"
    )
    return idn.AdhesionValidated(
        organisation_id=organisation, siret=valid_siret(7), legal_name="Organisme", zone="guyane",
        head=head, rgc=idn.Person(first_name="Paul", last_name="Rgc", email="rgc@of.example"),
        rgc_account_id=rgc, validated_at=at(when), validated_by=new_id(),
        access_expires_at=at(when) + timedelta(days=3 * 365),
    )  # fmt: skip


def activated(
    habilitation: str, organisation: str, account: str, when: float = 1
) -> hab.HabilitationActivated:
    return hab.HabilitationActivated(
        habilitation_id=habilitation, organisation_id=organisation, account_id=account,
        role="user", activated_at=at(when),
    )  # fmt: skip


def ended(habilitation: str, organisation: str, when: float = 2) -> hab.HabilitationEnded:
    return hab.HabilitationEnded(
        habilitation_id=habilitation, organisation_id=organisation, reason="departure",
        ended_at=at(when),
    )  # fmt: skip


def org_suspended(organisation: str, when: float) -> idn.OrganisationSuspended:
    return idn.OrganisationSuspended(
        organisation_id=organisation, reason="CGU §8", suspended_at=at(when), suspended_by=new_id()
    )


def org_reinstated(organisation: str, when: float) -> idn.OrganisationReinstated:
    return idn.OrganisationReinstated(
        organisation_id=organisation, reinstated_at=at(when), reinstated_by=new_id()
    )


def vacated(organisation: str, rgc: str, when: float) -> hab.RgcPostVacated:
    return hab.RgcPostVacated(
        organisation_id=organisation, reason="departure", former_rgc_account_id=rgc,
        vacated_at=at(when),
    )  # fmt: skip


@dataclass
class View:
    app: FastAPI
    http: httpx.AsyncClient
    clock: ManualClock
    signer: TokenSigner
    producer: AIOKafkaProducer

    def token(self, account: str, organisation: str | None, *, role: str = "user",
              session: str | None = None, password_change_only: bool = False) -> str:  # fmt: skip
        return self.signer.issue(
            account_id=account, organisation_id=organisation, role=role,
            session_id=session or new_id(), password_change_only=password_change_only,
            now=self.clock.now(),
        )  # fmt: skip

    async def publish(self, *events: Event, times: int = 1) -> list[str]:
        """Each event on its topic, keyed as its producer keys it, `times` deliveries of one
        record (as a producer's retry would); their CloudEvent ids."""
        ids = []
        for event in events:
            cloudevent = to_cloudevent(event, source="/kairos/test")
            record = cloudevent.to_kafka()
            for _ in range(times):
                await self.producer.send_and_wait(
                    event.topic, record.value, key=record.key, headers=list(record.headers)
                )
            ids.append(cloudevent.id)
        return ids

    async def applied(self, event_id: str, timeout: float = 30) -> None:
        """Wait until the service applied the event (its id is in the inbox)."""
        pool = self.app.state.declaration.pool
        async with asyncio.timeout(timeout):
            while not await pool.fetchval(  # noqa: ASYNC110 - polls the database
                "SELECT true FROM inbox WHERE event_id = $1", event_id
            ):
                await asyncio.sleep(0.05)

    async def declare(self, token: str, organisation: str) -> Response:
        url = f"/probe/organisations/{organisation}/declarations"
        return await self.http.post(url, headers={"Authorization": f"Bearer {token}"})

    async def read(self, token: str, organisation: str) -> Response:
        url = f"/probe/organisations/{organisation}/declarations"
        return await self.http.get(url, headers={"Authorization": f"Bearer {token}"})


async def until(
    call: Callable[[], Awaitable[Response]], status: int, problem: str | None = None
) -> Response:
    """`call()`'s first response with `status` (and problem type), as events arrive."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        response = await call()
        if response.status_code == status and (
            problem is None or response.json()["type"].endswith(f"/{problem}")
        ):
            return response
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {response.status_code} {response.text}")
        await asyncio.sleep(0.05)


@pytest_asyncio.fixture(loop_scope="session")
async def view(database_url: str, kafka_bootstrap_servers: str) -> AsyncIterator[View]:
    await create_platform_topics(kafka_bootstrap_servers)
    clock = ManualClock(MONDAY)
    signer = TokenSigner(Ed25519PrivateKey.generate())
    tokens = JwksClient("http://identity.test/.well-known/jwks.json", static_jwks=signer.jwks())
    settings = DeclarationSettings(
        database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap_servers,
        consumer_group_prefix=f"test-declaration-{uuid.uuid4().hex}",  # a fresh group, from
        consumer_offset_reset="latest",  # the end of the topics, not earlier tests' events
    )  # fmt: skip
    app = declaration_app(settings, clock, tokens)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers, enable_idempotence=True)
    async with services_running() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        # Its groups have their partitions and positions before a test publishes anything.
        await app.state.resources.messaging.wait_until_consuming()
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://declaration")
        )
        await producer.start()
        stack.push_async_callback(producer.stop)
        yield View(app, http, clock, signer, producer)


async def habilitated_user(view: View) -> tuple[str, str, str]:
    """A validated organisation and a user habilitated for it: (organisation, account, hab)."""
    organisation, account, habilitation = new_id(), new_id(), new_id()
    await view.publish(
        validated(organisation, new_id()), activated(habilitation, organisation, account)
    )
    token = view.token(account, organisation)
    allowed = await until(lambda: view.declare(token, organisation), 200)
    assert allowed.json() == {"zone": "guyane", "habilitation_id": habilitation, "as_rgc": False}
    return organisation, account, habilitation


async def test_a_habilitated_user_may_declare_until_the_habilitation_ends(view: View) -> None:
    organisation, account, habilitation = await habilitated_user(view)
    token = view.token(account, organisation)
    assert (await view.read(token, organisation)).status_code == 200
    await view.publish(ended(habilitation, organisation))  # without its account: not needed
    refused = await until(lambda: view.declare(token, organisation), 403, "not-habilitated")
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["reason"] == "habilitation_ended"
    assert "ended" in refused.json()["detail"]
    assert (await view.read(token, organisation)).status_code == 403


async def test_nobody_acts_for_another_organisation_and_operators_only_read(view: View) -> None:
    ours, account, _ = await habilitated_user(view)
    theirs, _, _ = await habilitated_user(view)
    token = view.token(account, ours)
    foreign, unknown = await view.declare(token, theirs), await view.declare(token, new_id())
    assert foreign.status_code == unknown.status_code == 403
    assert foreign.json()["type"].endswith("/forbidden")
    assert foreign.json()["detail"] == unknown.json()["detail"]  # nothing about theirs revealed
    assert (await view.read(token, theirs)).status_code == 403
    assert (await view.declare(token, ours)).status_code == 200  # ours unchanged

    operator = view.token(new_id(), None, role="operator")
    refused = await view.declare(operator, ours)
    assert (refused.status_code, refused.json()["title"]) == (403, "Operators do not declare")
    assert (await view.read(operator, theirs)).json() == {"zone": "guyane"}
    assert (await view.read(operator, new_id())).status_code == 404


async def test_an_ended_session_or_a_lapsed_account_is_refused_at_once(view: View) -> None:
    organisation, account, _ = await habilitated_user(view)
    first, second = new_id(), new_id()
    first_token = view.token(account, organisation, session=first)
    second_token = view.token(account, organisation, session=second)
    await view.publish(idn.SessionEnded(
        account_id=account, organisation_id=organisation, session_id=first, reason="logout",
        ended_at=at(5),
    ))  # fmt: skip
    refused = await until(lambda: view.declare(first_token, organisation), 401)
    assert refused.json()["type"].endswith("/unauthenticated")
    assert (await view.declare(second_token, organisation)).status_code == 200
    lapsed = idn.AccountLapsed(account_id=account, role="user", lapsed_at=at(6))
    await view.publish(lapsed)
    await until(lambda: view.declare(second_token, organisation), 401)

    other_organisation, other, _ = await habilitated_user(view)
    provisional = view.token(other, other_organisation, password_change_only=True)
    assert (await view.declare(provisional, other_organisation)).status_code == 403
    tampered = first_token[:-4] + ("AAAA" if not first_token.endswith("AAAA") else "BBBB")
    assert (await view.declare(tampered, organisation)).status_code == 401
    anonymous = await view.http.post(f"/probe/organisations/{organisation}/declarations")
    assert anonymous.status_code == 401

    # An ended session is remembered as long as one of its tokens could be presented.
    view.clock.advance(ENDED_SESSION_MEMORY + timedelta(seconds=10))
    assert await prune_ended_sessions(view.app.state.declaration) >= 1
    pool = view.app.state.declaration.pool
    assert not await pool.fetchval(
        "SELECT true FROM ended_login_session WHERE session_id = $1", uuid.UUID(first)
    )
    expired = await view.declare(first_token, organisation)
    assert "expired" in expired.json()["detail"]


async def test_suspensions_stop_declaring_and_reinstatements_restore_it(view: View) -> None:
    organisation, account, habilitation = await habilitated_user(view)
    token = view.token(account, organisation)
    await view.publish(org_suspended(organisation, when=10))
    refused = await until(
        lambda: view.declare(token, organisation), 403, "organisation-access-not-active"
    )
    assert refused.json()["organisation_status"] == "suspended"
    await view.publish(org_reinstated(organisation, when=11))
    await until(lambda: view.declare(token, organisation), 200)

    await view.publish(hab.HabilitationSuspended(
        habilitation_id=habilitation, organisation_id=organisation,
        reason="annual_review_overdue", suspended_at=at(12),
    ))  # fmt: skip
    refused = await until(lambda: view.declare(token, organisation), 403, "not-habilitated")
    assert refused.json()["reason"] == "habilitation_suspended"
    await view.publish(hab.HabilitationReinstated(
        habilitation_id=habilitation, organisation_id=organisation, reinstated_at=at(13),
        reinstated_by=new_id(),
    ))  # fmt: skip
    await until(lambda: view.declare(token, organisation), 200)

    withdrawn = idn.OrganisationWithdrawn(
        organisation_id=organisation, reason="CGU §8", withdrawn_at=at(14), withdrawn_by=new_id()
    )
    _, reinstatement = await view.publish(withdrawn, org_reinstated(organisation, when=15))
    await view.applied(reinstatement)  # which cannot undo a withdrawal
    refused = await view.declare(token, organisation)
    assert refused.json()["organisation_status"] == "withdrawn"


async def test_the_rgc_in_office_may_declare_until_the_post_falls_vacant(view: View) -> None:
    organisation, rgc, successor = new_id(), new_id(), new_id()
    await view.publish(validated(organisation, rgc))
    rgc_token = view.token(rgc, organisation, role="rgc")
    allowed = await until(lambda: view.declare(rgc_token, organisation), 200)
    assert allowed.json()["as_rgc"] is True
    await view.publish(vacated(organisation, rgc, when=20))
    refused = await until(lambda: view.declare(rgc_token, organisation), 403, "not-habilitated")
    assert refused.json()["reason"] == "rgc_post_left"
    took_office = hab.RgcTookOffice(
        organisation_id=organisation, rgc_account_id=successor, since=at(21)
    )
    await view.publish(took_office)
    await until(
        lambda: view.declare(view.token(successor, organisation, role="rgc"), organisation), 200
    )


async def test_events_delivered_twice_change_nothing(view: View) -> None:
    organisation, account, habilitation = new_id(), new_id(), new_id()
    activation = activated(habilitation, organisation, account)
    await view.publish(validated(organisation, new_id()), times=2)
    [activation_id] = await view.publish(activation, times=2)
    token = view.token(account, organisation)
    await until(lambda: view.declare(token, organisation), 200)
    await view.publish(ended(habilitation, organisation), times=2)
    await until(lambda: view.declare(token, organisation), 403, "not-habilitated")
    await view.publish(activation, times=2)  # the same record again, and a copy of the event:
    [copy] = await view.publish(activation)  # the same key: applied after the redeliveries
    await view.applied(copy)
    assert (await view.declare(token, organisation)).json()["reason"] == "habilitation_ended"
    pool = view.app.state.declaration.pool
    assert await pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", activation_id) == 1
    rows = await pool.fetchval(
        "SELECT count(*) FROM declarer_habilitation WHERE habilitation_id = $1",
        uuid.UUID(habilitation),
    )
    assert rows == 1


async def test_events_arriving_out_of_order_end_right(view: View) -> None:
    organisation, account, habilitation, rgc = new_id(), new_id(), new_id(), new_id()
    token, rgc_token = view.token(account, organisation), view.token(rgc, organisation, role="rgc")
    [activation] = await view.publish(activated(habilitation, organisation, account))
    await view.applied(activation)  # activated before the organisation is known here
    refused = await view.declare(token, organisation)  # its validation is still on its way
    assert refused.status_code == 503
    assert refused.json()["type"].endswith("/organisation-being-set-up")
    # Newest first within a key (as a dead letter replayed late would come), and the RGC's
    # vacancy before the adhesion that put the RGC in office:
    await view.publish(org_reinstated(organisation, when=31), org_suspended(organisation, when=30))
    [vacancy] = await view.publish(vacated(organisation, rgc, when=32))
    await view.applied(vacancy)
    await view.publish(validated(organisation, rgc, when=0))
    await until(lambda: view.declare(token, organisation), 200)
    refused = await view.declare(rgc_token, organisation)
    assert refused.json()["reason"] == "rgc_post_left"

    later, other = new_id(), new_id()  # ended before its activation arrives
    _, activation = await view.publish(
        ended(later, organisation, when=41), activated(later, organisation, other)
    )
    await view.applied(activation)
    refused = await view.declare(view.token(other, organisation), organisation)
    assert refused.json()["reason"] == "habilitation_ended"


async def test_of_roles_are_refused_outside_opening_hours_operators_are_not(view: View) -> None:
    organisation, account, _ = await habilitated_user(view)
    view.clock.set(datetime(2026, 3, 2, 23, 1, tzinfo=UTC))  # 20:01 in Guyane (UTC-3): closed
    token = view.token(account, organisation)
    refused = await view.declare(token, organisation)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/outside-access-hours")
    assert refused.json()["next_opening"] == "2026-03-03T10:30:00Z"  # 07:30 in Guyane
    assert (await view.read(token, organisation)).status_code == 403
    operator = view.token(new_id(), None, role="operator")
    assert (await view.read(operator, organisation)).status_code == 200


class _NoDatabase:
    def require_pool(self) -> asyncpg.Pool:
        raise AssertionError("the token is refused before the database is asked")


async def test_no_keys_yet_is_a_503_not_a_401() -> None:
    signer = TokenSigner(Ed25519PrivateKey.generate())
    unreachable = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: Response(503)))
    tokens = JwksClient("http://identity.test/.well-known/jwks.json", http=unreachable)
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(probe)
    calendar = AccessCalendar(OpeningRules())
    clock = ManualClock(MONDAY)
    app.state.declaration = DeclarationContext(_NoDatabase(), clock, calendar, tokens)
    token = signer.issue(
        account_id=new_id(), organisation_id=None, role="operator", session_id=new_id(),
        password_change_only=False, now=clock.now(),
    )  # fmt: skip
    async with (
        unreachable,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://declaration"
        ) as http,
    ):
        response = await http.get(
            f"/probe/organisations/{new_id()}/declarations",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 503
    assert response.json()["type"].endswith("/keys-unavailable")


def story() -> tuple[list[Event], dict[str, str], str]:
    """One organisation's events (times in seconds), the accounts by name, the organisation."""
    org, rgc, successor, user, leaver, h, h2 = (new_id() for _ in range(7))
    events: list[Event] = [
        validated(org, rgc, when=0),
        activated(h, org, user, when=1),
        hab.HabilitationSuspended(habilitation_id=h, organisation_id=org,
                                  reason="annual_review_overdue", suspended_at=at(2)),
        hab.HabilitationReinstated(habilitation_id=h, organisation_id=org, reinstated_at=at(3),
                                   reinstated_by=rgc),
        org_suspended(org, when=4),
        org_reinstated(org, when=5),
        vacated(org, rgc, when=6),
        hab.RgcTookOffice(organisation_id=org, rgc_account_id=successor, since=at(7)),
        activated(h2, org, leaver, when=1),
        ended(h2, org, when=8),
    ]  # fmt: skip
    accounts = {"rgc": rgc, "successor": successor, "user": user, "leaver": leaver}
    return events, accounts, org


async def test_every_arrival_order_and_redelivery_gives_the_same_view(database_url: str) -> None:
    """The handlers alone, without the inbox: any order, events applied twice, same view."""
    handlers = {**identity_handlers(), **habilitation_handlers()}
    rng = random.Random(20260302)
    outcomes = []
    connection = await asyncpg.connect(database_url)
    try:
        await apply_migrations(connection, MIGRATIONS, component="declaration")
        for round_ in range(60):
            events, accounts, organisation = story()
            order = events if round_ == 0 else rng.sample(events, len(events))
            order = [*order, *rng.sample(events, 3)] if round_ else order
            for event in order:
                delivery = Delivery(to_cloudevent(event, source="/kairos/test"), event.topic, 0, 0)
                async with connection.transaction():
                    await handlers[event.event_type](connection, event, delivery)
            outcomes.append(await verdicts(connection, accounts, organisation))
    finally:
        await connection.close()
    assert outcomes[0] == {
        "rgc": "rgc_post_left", "successor": "as_rgc", "user": "habilitation",
        "leaver": "habilitation_ended",
    }  # fmt: skip
    assert all(outcome == outcomes[0] for outcome in outcomes)


async def verdicts(
    connection: asyncpg.Connection, accounts: dict[str, str], organisation: str
) -> dict[str, str]:
    found = {}
    for name, account in accounts.items():
        facts = await access_view.declarer_facts(
            connection, uuid.UUID(account), uuid.UUID(organisation)
        )
        verdict = may_declare(facts, MONDAY)
        if isinstance(verdict, Allowed):
            found[name] = "as_rgc" if verdict.as_rgc else "habilitation"
        else:
            found[name] = verdict.reason.value
    return found


_EARLIER_HABILITATION, _EARLIER_ORGANISATION = new_id(), new_id()


@pytest_asyncio.fixture(loop_scope="session")
async def published_before_the_service(kafka_bootstrap_servers: str) -> str:
    """An event left on the shared topic before the service starts (as earlier tests leave
    theirs); its CloudEvent id."""
    await create_platform_topics(kafka_bootstrap_servers)
    cloudevent = to_cloudevent(
        ended(_EARLIER_HABILITATION, _EARLIER_ORGANISATION), source="/kairos/test"
    )
    record = cloudevent.to_kafka()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            hab.TOPIC, record.value, key=record.key, headers=list(record.headers)
        )
    finally:
        await producer.stop()
    return cloudevent.id


async def test_the_service_under_test_starts_at_the_end_of_the_shared_topics(
    published_before_the_service: str, view: View
) -> None:
    """Earlier tests' events are not replayed into this one: an event published before the
    service started is never applied, one published after it on the same partition is."""
    [after] = await view.publish(ended(_EARLIER_HABILITATION, _EARLIER_ORGANISATION))
    await view.applied(after)  # the partition read past the earlier record's offset
    pool = view.app.state.declaration.pool
    applied = {row["event_id"] for row in await pool.fetch("SELECT event_id FROM inbox")}
    assert published_before_the_service not in applied
