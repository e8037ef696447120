"""What the story (:mod:`kairos_devstack.story`) uses to talk to a running platform: where it
listens, an operator who logs in again when its token expires, the mailbox (the delivery log
and the SMTP sink), an integrator's consumer, and the stack's shared clock."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar
from zoneinfo import ZoneInfo

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from kairos_devstack.postgres import HOST, SUPERUSER
from kairos_devstack.stack import StackPorts, clock_offset_file
from kairos_schemas import declaration as contracts
from kairos_shared.clock import OffsetClock, write_offset
from kairos_shared.zones import is_working_day, zone_of_postal_code

T = TypeVar("T")
PASSWORD = "Une phrase de passe bien longue, 2026 !"  # noqa: S105 - the demo's own accounts
PARIS = ZoneInfo("Europe/Paris")


class StoryError(Exception):
    """A step of the story did not happen as the rules say."""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise StoryError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}, expected {status}: {response.text[:500]}"
        )
    body: dict[str, Any] = response.json()
    return body


async def wait_for(
    probe: Callable[[], Awaitable[T | None]], what: str, *, timeout: float = 90.0
) -> T:
    """``probe()``'s first result that is not None: events travel through Kafka."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                found = await probe()
                if found is not None:
                    return found
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise StoryError(f"waited {timeout:.0f} s for {what}") from None


NOT_YET = frozenset({404, 503})
"""What a service answers about an organisation it has not heard of yet (its view is built from
another service's events): 404 No such organisation, or 503 with Retry-After while it is being
set up."""


async def until_answered(
    request: Callable[[], Awaitable[httpx.Response]],
    what: str,
    *,
    not_yet: Collection[int] = NOT_YET,
    timeout: float = 90.0,
) -> httpx.Response:
    """The first 2xx answer of ``request()``, a read on the service whose view a builder is
    about to act on: the positive sign that the events that view is built from have arrived.
    A not-yet answer (``not_yet``) is asked again until ``timeout``; any other fails at once.
    Either failure says what was awaited. The one wait every test builder uses before acting
    on another service's view (tenant set-up, the story, the soak, the in-process platform)."""
    last = "none"
    try:
        async with asyncio.timeout(timeout):
            while True:
                response = await request()
                if response.is_success:
                    return response
                last = f"{response.status_code} {response.text[:300]}"
                if response.status_code not in not_yet:
                    raise StoryError(
                        f"while waiting for {what}: {response.request.method} "
                        f"{response.request.url} answered {last}"
                    )
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise StoryError(f"waited {timeout:.0f} s for {what}; last answer: {last}") from None


async def organisation_known(
    habilitation: httpx.AsyncClient, organisation_id: str, token: str
) -> None:
    """Until the habilitation service answers the organisation's RGC post to ``token`` (its RGC,
    head or an operator): it consumed AdhesionValidated, habilitations may be recorded."""
    await until_answered(
        lambda: habilitation.get(f"/v1/organisations/{organisation_id}/rgc", headers=bearer(token)),
        f"the habilitation service to know organisation {organisation_id} (AdhesionValidated)",
    )


async def declarer_let_in(
    declaration: httpx.AsyncClient, organisation_id: str, token: str, who: str
) -> None:
    """Until the declaration service lets ``token``'s holder read the organisation's
    declarations: it consumed the organisation's validation and the person's habilitation.
    Until then it answers 404/503 (the organisation) or 403 (the person, not yet known)."""
    await until_answered(
        lambda: declaration.get(
            f"/v1/organisations/{organisation_id}/declarations",
            params={"limit": 1},
            headers=bearer(token),
        ),
        f"the declaration service to let {who} of {organisation_id} in",
        not_yet={403, *NOT_YET},
    )


async def first_login(identity: httpx.AsyncClient, login_id: str, provisional: str) -> str:
    """Log in with the provisional password, choose one's own, log in again: a token. Once
    more from the start if the first token expired in between (the soak moves the clock)."""
    for _ in range(2):
        first = expect(
            await identity.post(
                "/v1/sessions", json={"login_id": login_id, "password": provisional}
            ),
            201,
        )
        changed = await identity.post(
            "/v1/accounts/me/password",
            json={"current_password": provisional, "new_password": PASSWORD},
            headers=bearer(first["access_token"]),
        )
        if changed.status_code != httpx.codes.UNAUTHORIZED:
            break
    if changed.status_code != httpx.codes.NO_CONTENT:
        raise StoryError(f"the password change was refused: {changed.text[:500]}")
    return await login(identity, login_id)


async def login(identity: httpx.AsyncClient, login_id: str) -> str:
    session = expect(
        await identity.post("/v1/sessions", json={"login_id": login_id, "password": PASSWORD}),
        201,
    )
    return str(session["access_token"])


@dataclass(frozen=True)
class Endpoints:
    identity: str
    habilitation: str
    declaration: str
    notification: str
    smtp_http: str
    kafka: str
    identity_database_url: str
    clock_offset_file: Path

    @classmethod
    def of_local_stack(cls, root: Path, ports: StackPorts | None = None) -> Endpoints:
        """Where ``make run`` (with the same environment) listens."""
        ports = ports or StackPorts()
        url = {service: f"http://127.0.0.1:{port}" for service, port in ports.services.items()}
        return cls(
            identity=url["identity"], habilitation=url["habilitation"],
            declaration=url["declaration"], notification=url["notification"],
            smtp_http=f"http://127.0.0.1:{ports.smtp_http}",
            kafka=f"127.0.0.1:{ports.kafka}",
            identity_database_url=f"postgresql://{SUPERUSER}@{HOST}:{ports.postgres}/identity",
            clock_offset_file=clock_offset_file(root),
        )  # fmt: skip

    def http(self) -> dict[str, str]:
        return {
            "identity": self.identity, "habilitation": self.habilitation,
            "declaration": self.declaration, "notification": self.notification,
            "smtp": self.smtp_http,
        }  # fmt: skip

    async def check_ready(self) -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            for name, url in self.http().items():
                try:
                    ready = await client.get(f"{url}/health/ready")
                except httpx.HTTPError:
                    raise StoryError(
                        f"nothing answers at {url} ({name}): start the stack with `make run` "
                        "(in another terminal), then run the demo again"
                    ) from None
                if ready.status_code != httpx.codes.OK:
                    raise StoryError(f"{name} at {url} is not ready: {ready.text[:300]}")


class Operator:
    """A France Travail operator, bootstrapped for the story; logs in again when needed (tokens
    live 10 minutes of the platform's clock, and the story lets 21 days pass)."""

    def __init__(self, identity: httpx.AsyncClient, endpoints: Endpoints) -> None:
        self.identity = identity
        self.endpoints = endpoints
        self.login_id = ""
        self.provisional_password = ""
        self.token = ""

    async def bootstrap(self, run: str) -> None:
        command = [
            sys.executable, "-m", "kairos_identity", "bootstrap-operator",
            "--first-name", "Odile", "--last-name", "Perrin",
            "--email", f"odile.perrin.{run}@francetravail.example",
        ]  # fmt: skip
        env = {
            **os.environ,
            "KAIROS_IDENTITY_DATABASE_URL": self.endpoints.identity_database_url,
            "KAIROS_CLOCK_OFFSET_FILE": str(self.endpoints.clock_offset_file),
        }
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await process.communicate()
        printed = out.decode()
        login_id = re.search(r"login id (\S+)", printed)
        password = re.search(r"provisional password \(shown once\): (.+)", printed)
        if process.returncode != 0 or login_id is None or password is None:
            raise StoryError(f"bootstrap-operator failed: {err.decode()[-500:]}")
        self.login_id, self.provisional_password = login_id[1], password[1].strip()
        self.token = await first_login(self.identity, self.login_id, self.provisional_password)

    async def send(
        self, client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        response = await client.request(method, path, json=body, headers=bearer(self.token))
        if response.status_code == httpx.codes.UNAUTHORIZED:
            self.token = await login(self.identity, self.login_id)
            response = await client.request(method, path, json=body, headers=bearer(self.token))
        return response

    async def get(self, path: str, client: httpx.AsyncClient) -> dict[str, Any]:
        return expect(await self.send(client, "GET", path), 200)

    async def post(self, path: str, status: int) -> dict[str, Any]:
        return expect(await self.send(self.identity, "POST", path), status)


@dataclass(frozen=True)
class Mail:
    recipient: str
    kind: str
    subject: str
    text: str
    html: str
    notification_id: str = ""


class Mailbox:
    """E-mails as the delivery log (notification service) lists them and as the SMTP sink
    received them."""

    def __init__(
        self, notification: httpx.AsyncClient, sink: httpx.AsyncClient, operator: Operator
    ) -> None:
        self.notification = notification
        self.sink = sink
        self.operator = operator

    async def received(self, address: str, kind: str, *, besides: Collection[str] = ()) -> Mail:
        """The first e-mail of `kind` sent to `address` (other than the notifications
        `besides`), as the SMTP sink received it."""

        async def sent() -> dict[str, Any] | None:
            log = await self.operator.get(f"/v1/notifications?email={address}", self.notification)
            for entry in log["notifications"]:
                if entry["notification_id"] in besides:
                    continue
                if entry["kind"] == kind and entry["status"] == "failed":
                    raise StoryError(f"the {kind} e-mail to {address} failed: {entry}")
                if entry["kind"] == kind and entry["status"] == "sent":
                    return dict(entry)
            return None

        entry = await wait_for(sent, f"the {kind} e-mail to {address}")

        async def delivered() -> dict[str, Any] | None:
            listing = expect(await self.sink.get("/api/v1/messages?limit=500"), 200)
            # By Message-ID, which is the notification's id.
            for message in listing["messages"]:
                if message["MessageID"].startswith(f"<{entry['notification_id']}@"):
                    return expect(await self.sink.get(f"/api/v1/message/{message['ID']}"), 200)
            return None

        detail = await wait_for(delivered, f"« {entry['subject']} » in the SMTP sink")
        return Mail(
            address, kind, detail["Subject"], detail["Text"], detail["HTML"],
            str(entry["notification_id"]),
        )  # fmt: skip


class DeclarationsFeed:
    """An integrator: its own consumer group on the declaration topic, committing after each
    record it handled, keeping the events about one trainee."""

    def __init__(self, bootstrap_servers: str, trainee_id: str) -> None:
        self.consumer = AIOKafkaConsumer(
            contracts.TOPIC,
            bootstrap_servers=bootstrap_servers,
            group_id=f"demo-integrator-{uuid.uuid4().hex[:8]}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self.key_prefix = f"{trainee_id}/".encode()

    async def __aenter__(self) -> Self:
        await self.consumer.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.consumer.stop()

    async def events(self, count: int, timeout: float = 60.0) -> list[tuple[str, dict[str, Any]]]:
        found: list[tuple[str, dict[str, Any]]] = []
        try:
            async with asyncio.timeout(timeout):
                while len(found) < count:
                    batches = await self.consumer.getmany(timeout_ms=500)
                    for partition, records in batches.items():
                        for record in records:
                            if record.key is not None and record.key.startswith(self.key_prefix):
                                headers = dict(record.headers)
                                found.append(
                                    (headers["ce_type"].decode(), json.loads(record.value or b"{}"))
                                )
                        if records:
                            await self.consumer.commit(
                                {
                                    TopicPartition(partition.topic, partition.partition): records[
                                        -1
                                    ].offset
                                    + 1
                                }
                            )
        except TimeoutError:
            raise StoryError(f"the integrator received {len(found)} of {count} events") from None
        return found


def move_clock(offset_file: Path, by: timedelta) -> None:
    """Let time pass for every service of the stack at once."""
    write_offset(offset_file, OffsetClock(offset_file).offset() + by)


def open_hours_ahead(offset_file: Path) -> datetime:
    """Move the stack's clock forward to the next working day, 10:00 in Paris (OF staff may use
    the platform then, K4), never backwards; the instant it now shows."""
    clock = OffsetClock(offset_file)
    now = clock.now()
    zone = zone_of_postal_code("69002")
    day = now.astimezone(PARIS).date()
    while True:
        target = datetime.combine(day, time(10, 0), PARIS).astimezone(UTC)
        if target > now and is_working_day(day, zone):
            break
        day += timedelta(days=1)
    write_offset(offset_file, clock.offset() + (target - now))
    return target
