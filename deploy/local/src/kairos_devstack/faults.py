"""Fault injection against the platform run as real processes (``tests/faults``).

:class:`~kairos_devstack.process_platform.ProcessPlatform` runs the platform as child processes
this code can SIGKILL and restart by pid. :func:`set_up_tenant` walks the
story over HTTP up to a trainer allowed to declare. :class:`DeclarationStream` sends
declarations, each with its own ``Idempotency-Key`` retried until a definitive answer, and keeps
every accepted id; the ``*_tally`` and ``*_effects`` functions count, from the outside (Kafka
topics, the services' tables, the SMTP sink), what became of them: lost, applied twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from kairos_devstack.process_platform import ProcessPlatform
from kairos_devstack.story_clients import (
    PARIS,
    Operator,
    bearer,
    declarer_let_in,
    expect,
    first_login,
    login,
    open_hours_ahead,
    organisation_known,
    wait_for,
)
from kairos_devstack.testing import valid_siret
from kairos_schemas import declaration as declaration_events

# ---------------------------------------------------------------------------------------------
# The story up to a trainer who declares


@dataclass
class Person:
    login_id: str
    token: str
    email: str = ""


@dataclass
class Tenant:
    """An organisation with its RGC and a trainer allowed to declare in one training session."""

    organisation_id: str
    operator: Operator
    rgc: Person
    user: Person
    session: dict[str, str]
    today: date
    seed: int
    trainees: int = 0

    def next_trainee(self) -> str:
        self.trainees += 1
        return f"{(self.seed * 10_000 + self.trainees) % 10**7:07d}A"


@dataclass
class World:
    """The running platform, HTTP clients to it, and the tenant the tests act for."""

    platform: ProcessPlatform
    http: dict[str, httpx.AsyncClient]
    tenant: Tenant


async def call(
    world: World, service: str, method: str, path: str, person: Person, **kwargs: Any
) -> httpx.Response:
    """A request as ``person``, who logs in again if their token was refused."""
    headers = kwargs.pop("headers", {})
    client = world.http[service]
    response = await client.request(method, path, headers=bearer(person.token) | headers, **kwargs)
    if response.status_code == httpx.codes.UNAUTHORIZED:
        person.token = await login(world.http["identity"], person.login_id)
        response = await client.request(
            method, path, headers=bearer(person.token) | headers, **kwargs
        )
    return response


async def new_organisation(
    http: dict[str, httpx.AsyncClient], operator: Operator, seed: int
) -> tuple[str, Person]:
    """An adhesion requested and validated; its RGC logged in with its own password."""
    organisation_id, rgc, rgc_email = await validated_organisation(http, operator, seed)
    token = await first_login(http["identity"], rgc["login_id"], rgc["provisional_password"])
    await organisation_known(http["habilitation"], organisation_id, token)
    return organisation_id, Person(rgc["login_id"], token, rgc_email)


async def validated_organisation(
    http: dict[str, httpx.AsyncClient], operator: Operator, seed: int
) -> tuple[str, dict[str, Any], str]:
    """An adhesion requested and validated: its id, the RGC's provisional credentials (nobody
    logged in yet) and the RGC's e-mail address."""
    rgc_email = f"rgc.{seed}@of.example"
    body = {
        "siret": valid_siret(seed), "nda": "84690000069", "legal_name": f"Organisme {seed}",
        "address": {"street": "1 place Bellecour", "postal_code": "69002", "city": "Lyon"},
        "head": {"first_name": "Inès", "last_name": "Roux", "function": "Directrice",
                 "email": f"head.{seed}@of.example"},
        "rgc": {"first_name": "Paul", "last_name": "Rgc", "email": rgc_email},
        "terms": {"version": "2017-09-15", "accepted_on": "2026-01-05"},
    }  # fmt: skip
    organisation_id = str(
        expect(await http["identity"].post("/v1/organisations", json=body), 201)["organisation_id"]
    )
    rgc = await operator.post(f"/v1/organisations/{organisation_id}/validation", 201)
    return organisation_id, rgc, rgc_email


def habilitation_body(email: str) -> dict[str, Any]:
    return {
        "role": "user",
        "person": {"first_name": "Fanny", "last_name": "Martin", "email": email},
        "function": "formatrice",
        "authorisation": {
            "signed_by": "Inès Roux", "signed_on": "2026-01-05",
            "document_sha256": uuid.uuid5(uuid.NAMESPACE_URL, email).hex * 2,
        },
        "employee_attested": True,
    }  # fmt: skip


async def habilitate(world: World, organisation_id: str, rgc: Person, email: str) -> str:
    response = await call(
        world, "habilitation", "POST", f"/v1/organisations/{organisation_id}/habilitations", rgc,
        json=habilitation_body(email),
    )  # fmt: skip
    return str(expect(response, 201)["habilitation_id"])


async def active_user(world: World, organisation_id: str, rgc: Person, email: str) -> Person:
    """Habilitated, its account opened (through Kafka), logged in with its own password."""
    habilitation_id = await habilitate(world, organisation_id, rgc, email)
    operator = world.tenant.operator

    async def active() -> str | None:
        view = await operator.get(
            f"/v1/habilitations/{habilitation_id}", world.http["habilitation"]
        )
        return str(view["account_id"]) if view["status"] == "active" else None

    account_id = await wait_for(active, f"habilitation {habilitation_id} active")
    credentials = await call(
        world, "identity", "GET", f"/v1/accounts/{account_id}/provisional-credentials", rgc
    )
    body = expect(credentials, 200)
    token = await first_login(
        world.http["identity"], body["login_id"], body["provisional_password"]
    )
    return Person(body["login_id"], token, email)


async def set_up_tenant(platform: ProcessPlatform, http: dict[str, httpx.AsyncClient]) -> World:
    seed = uuid.uuid4().int % 10**6
    operator = Operator(http["identity"], platform.endpoints())
    await operator.bootstrap(f"{seed}")
    organisation_id, rgc = await new_organisation(http, operator, seed)
    today = open_hours_ahead(platform.offset_file).astimezone(PARIS).date()
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    session = {"action_number": f"84_AF_{seed:010d}", "session_number": f"84_SE_{seed:010d}"}
    world = World(
        platform, http,
        Tenant(organisation_id, operator, rgc, Person("", ""), session, today, seed),
    )  # fmt: skip
    world.tenant.user = await active_user(world, organisation_id, rgc, f"user.{seed}@of.example")
    body = {**session, "starts_on": month.isoformat(),
            "ends_on": (month + timedelta(days=365)).isoformat(), "weekly_hours": 35}  # fmt: skip
    user = world.tenant.user
    await declarer_let_in(world.http["declaration"], organisation_id, user.token, user.login_id)
    registered = await call(
        world, "declaration", "POST", f"/v1/organisations/{organisation_id}/sessions",
        world.tenant.user, json=body, headers={"Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    expect(registered, 201)
    return world


# ---------------------------------------------------------------------------------------------
# Driving declarations and counting what became of them

_RETRIED = {408, 409, 425, 429, 500, 502, 503, 504}
"""Retried under the same key; the 5xx (and transport errors) only inside the fault window."""


@dataclass
class DeclarationStream:
    """Entries declared one trainee each, every one retried with its own Idempotency-Key until
    a definitive answer, as a careful integrator does."""

    world: World
    accepted: dict[str, int] = field(default_factory=dict)
    """declaration id -> version, of every 201."""
    accepted_at: list[float] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    trainees: set[str] = field(default_factory=set)
    """Every trainee this stream declared about (accepted or not)."""
    retried: int = 0
    give_up_after: float = 150.0
    fault_began_at: float | None = None
    repaired_at: float | None = None
    window_closed_at: float | None = None
    """The fault window: from :meth:`fault_began` until the first 201 to a request sent after
    :meth:`fault_repaired`. A 5xx or a transport error answered outside it fails the test."""

    def fault_began(self) -> None:
        """Call just before injecting the fault."""
        self.fault_began_at = time.monotonic()

    def fault_repaired(self) -> None:
        """Call once what failed is back (restarted, ready)."""
        self.repaired_at = time.monotonic()

    def _in_fault_window(self, sent_at: float) -> bool:
        """Whether an error answered now, to a request sent at ``sent_at``, is the fault's."""
        began, closed = self.fault_began_at, self.window_closed_at
        return began is not None and (closed is None or sent_at < closed)

    async def declare_one(self) -> None:
        tenant = self.world.tenant
        trainee = tenant.next_trainee()
        self.trainees.add(trainee)
        body = {"session": tenant.session, "trainee_id": trainee,
                "entered_on": tenant.today.isoformat()}  # fmt: skip
        response = await self._definitive(
            f"/v1/organisations/{tenant.organisation_id}/entries", body
        )
        if response is not None:
            data = response.json()
            self.accepted[str(data["declaration_id"])] = int(data["version"])
            self.accepted_at.append(time.monotonic())

    async def declare_attendance(self, trainees: list[str], attended_hours: float) -> None:
        """One monthly attendance batch (all or nothing) for ``trainees``, this month."""
        tenant = self.world.tenant
        rows = [{"session": tenant.session, "trainee_id": trainee,
                 "month": f"{tenant.today:%Y-%m}", "attended_hours": attended_hours}
                for trainee in trainees]  # fmt: skip
        path = f"/v1/organisations/{tenant.organisation_id}/attendance-statements/batch"
        response = await self._definitive(path, {"rows": rows})
        if response is not None:
            for row in response.json()["rows"]:
                self.accepted[str(row["declaration_id"])] = 1  # a first statement: version 1
            self.accepted_at.append(time.monotonic())

    async def _definitive(self, path: str, body: dict[str, Any]) -> httpx.Response | None:
        """``body`` POSTed under one ``Idempotency-Key`` until a definitive answer: the 201, or
        None once the refusal (or giving up) is recorded."""
        key = {"Idempotency-Key": str(uuid.uuid4())}
        deadline = time.monotonic() + self.give_up_after
        while True:
            sent_at = time.monotonic()
            error = ""
            try:
                response = await call(
                    self.world, "declaration", "POST", path, self.world.tenant.user, json=body,
                    headers=key,
                )  # fmt: skip
            except httpx.HTTPError as failed:
                response, error = None, f"{type(failed).__name__}: {failed}"
            if response is not None and response.status_code == httpx.codes.CREATED:
                repaired, closed = self.repaired_at, self.window_closed_at
                if repaired is not None and closed is None and sent_at >= repaired:
                    self.window_closed_at = time.monotonic()
                return response
            if response is not None and response.status_code not in _RETRIED:
                self.refused.append(f"{response.status_code} {response.text[:300]}")
                return None
            if response is not None and response.is_server_error:
                error = f"{response.status_code} {response.text[:300]}"
            if error and not self._in_fault_window(sent_at):
                raise AssertionError(f"POST {path} answered {error} outside the fault window")
            if time.monotonic() > deadline:
                self.refused.append(f"gave up after {self.give_up_after:.0f}s of retries")
                return None
            self.retried += 1
            await asyncio.sleep(0.5)

    async def run(self, count: int, *, per_second: float = 4.0, concurrency: int = 4) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                await self.declare_one()

        async with asyncio.TaskGroup() as group:
            for _ in range(count):
                group.create_task(one())
                await asyncio.sleep(1 / per_second)

    def first_success_after(self, moment: float) -> float | None:
        later = [at - moment for at in self.accepted_at if at >= moment]
        return min(later) if later else None


async def read_topic(
    bootstrap_servers: str, topic: str, *, timeout: float = 60.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` up to its end offsets now (no group, nothing committed)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers.split(","), group_id=None,
        enable_auto_commit=False, auto_offset_reset="earliest",
    )  # fmt: skip
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(timeout):
            while not consumer.assignment():  # assigned once the metadata arrived
                for batch in (await consumer.getmany(timeout_ms=100)).values():
                    records.extend(batch)
            ends = await consumer.end_offsets(list(consumer.assignment()))
            pending = {partition for partition, end in ends.items() if end > 0}
            while pending:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(batch)
                pending = {p for p in pending if await consumer.position(p) < ends[p]}
    finally:
        await consumer.stop()
    return records


def header(record: ConsumerRecord[bytes, bytes], name: str) -> str:
    return next((v.decode() for k, v in record.headers or () if k == name), "")


@dataclass(frozen=True)
class Tally:
    """What a topic holds for the accepted declarations, counted by (declaration id, version)."""

    events_in: int
    events_out: int
    lost: int
    duplicates: int
    """Declaration versions published under more than one event id: applied twice upstream."""
    redelivered: int
    """Records of an event id seen again (the relay's at-least-once: consumers dedupe)."""
    unconfirmed: int
    """Declarations of the stream's trainees on the topic whose 201 the stream never saw."""


async def declaration_tally(world: World, stream: DeclarationStream) -> Tally:
    accepted = stream.accepted
    records = await read_topic(world.platform.kafka.bootstrap_servers, declaration_events.TOPIC)
    event_ids: dict[tuple[str, int], set[str]] = {}
    copies: Counter[str] = Counter()
    for record in records:
        try:
            data = json.loads(record.value or b"{}")
        except ValueError:  # a raw record of the dead-letter tests
            continue
        if (
            not isinstance(data, dict)
            or data.get("organisation_id") != world.tenant.organisation_id
        ):
            continue
        if "declaration_id" not in data or data.get("trainee_id") not in stream.trainees:
            continue  # another stream's, or a schema-violating record of the dead-letter tests
        event_id = header(record, "ce_id")
        copies[event_id] += 1
        event_ids.setdefault((data["declaration_id"], data["version"]), set()).add(event_id)
    wanted = set(accepted.items())
    found = wanted & set(event_ids)
    return Tally(
        events_in=len(wanted),
        events_out=len(found),
        lost=len(wanted - found),
        duplicates=sum(len(ids) - 1 for key, ids in event_ids.items() if key in wanted),
        redelivered=sum(n - 1 for n in copies.values()),
        unconfirmed=len(set(event_ids) - wanted),
    )


async def entries_applied(world: World, accepted: Iterable[str]) -> int:
    """How many of the accepted entries the notification service's consumer applied."""
    async with world.platform.database("notification") as connection:
        found = await connection.fetchval(
            "SELECT count(*) FROM training_entry WHERE declaration_id = ANY($1::uuid[])",
            list(accepted),
        )
    return int(found)


async def until(
    probe: Callable[[], Awaitable[bool]], what: str, *, timeout: float = 120.0
) -> float:
    """Seconds until ``probe()`` is true."""
    started = time.monotonic()

    async def check() -> bool | None:
        return True if await probe() else None

    await wait_for(check, what, timeout=timeout)
    return time.monotonic() - started


_MID_WORK = """
    SELECT coalesce(array_agg(DISTINCT activity.application_name), '{}')
    FROM pg_locks AS waiting JOIN pg_stat_activity AS activity USING (pid)
    WHERE NOT waiting.granted AND waiting.pid <> pg_backend_pid()
      AND ($1::text IS NULL OR waiting.relation = to_regclass($1))
      AND ($2::text IS NULL OR EXISTS (
          SELECT 1 FROM pg_locks AS written
          WHERE written.pid = waiting.pid AND written.granted
            AND written.relation = to_regclass($2) AND written.mode = 'RowExclusiveLock'))
"""


@dataclass(frozen=True)
class Stall:
    """A service's table held by the test (see :func:`table_held`)."""

    connection: asyncpg.Connection
    table: str

    async def waiting(self, written: str | None = None, *, on_any_lock: bool = False) -> set[str]:
        """The processes (``application_name``: ``<service>-<replica>``) with a transaction
        waiting, seen in pg_locks: for the held table (or, ``on_any_lock``, for any lock), having
        written ``written`` first if named. Non-empty: the service is mid-work."""
        found = await self.connection.fetchval(
            _MID_WORK, None if on_any_lock else self.table, written
        )
        return set(found)


@contextlib.asynccontextmanager
async def table_held(platform: ProcessPlatform, service: str, table: str) -> AsyncIterator[Stall]:
    """``service``'s ``table`` locked against writes for the block (reads go on), as a stalled
    disk would hold them: the service's transactions that write it wait there, seen through
    :meth:`Stall.waiting`. A fault injected once one is seen waiting hits work in progress.
    The lock is released when the block ends (after the fault)."""
    async with platform.database(service) as admin, admin.transaction():
        await admin.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        yield Stall(admin, table)


# ---------------------------------------------------------------------------------------------
# A burst of habilitations: events through identity, habilitation, declaration, notification

HABILITATION_ACTIVATED = b"fr.kairos.habilitation.habilitation-activated.v1"


@dataclass(frozen=True)
class BurstEffects:
    """Per habilitation of the burst, what each service did about it."""

    accounts: Counter[str]
    """identity: accounts opened per habilitation id."""
    activations: Counter[str]
    """habilitation: HabilitationActivated events written per habilitation id."""
    declarers: int
    """declaration: habilitations known active in its access view."""
    mails: dict[tuple[str, str], tuple[int, str, list[str]]]
    """notification: (address, kind) -> (rows, status of the first, their ids)."""
    deliveries: Counter[str]
    """SMTP sink: deliveries per Message-ID."""

    def mail_deliveries(self, notification_id: str) -> int:
        return sum(
            n for mid, n in self.deliveries.items() if mid.startswith(f"<{notification_id}@")
        )


async def burst_effects(world: World, burst: dict[str, str]) -> BurstEffects:
    """``burst``: habilitation id -> the person's address."""
    platform, ids = world.platform, list(burst)
    async with platform.database("identity") as db:
        rows = await db.fetch(
            """SELECT habilitation_id::text AS id FROM account
               WHERE habilitation_id = ANY($1::uuid[])""",
            ids,
        )
    accounts = Counter(str(row["id"]) for row in rows)
    async with platform.database("habilitation") as db:
        rows = await db.fetch(
            """SELECT convert_from(key, 'UTF8') AS id FROM outbox
               WHERE header_values[array_position(header_names, 'ce_type')] = $1
                 AND convert_from(key, 'UTF8') = ANY($2::text[])""",
            HABILITATION_ACTIVATED, ids,
        )  # fmt: skip
    activations = Counter(str(row["id"]) for row in rows)
    async with platform.database("declaration") as db:
        declarers = await db.fetchval(
            """SELECT count(*) FROM declarer_habilitation
               WHERE habilitation_id = ANY($1::uuid[]) AND activated_at IS NOT NULL""",
            ids,
        )
    async with platform.database("notification") as db:
        rows = await db.fetch(
            """SELECT lower(recipient_email) AS email, kind, id::text, status FROM notification
               WHERE lower(recipient_email) = ANY($1::text[]) ORDER BY created_at""",
            [email.lower() for email in burst.values()],
        )
    mails: dict[tuple[str, str], tuple[int, str, list[str]]] = {}
    for row in rows:
        count, status, mail_ids = mails.get((row["email"], row["kind"]), (0, row["status"], []))
        mails[(row["email"], row["kind"])] = (count + 1, status, [*mail_ids, row["id"]])
    return BurstEffects(accounts, activations, int(declarers), mails, await platform.smtp.collect())


@dataclass(frozen=True)
class BurstVerdict:
    events_in: int
    events_out: int
    duplicates: int
    lost: int
    complete: bool
    details: list[str]
    mail_redeliveries: int = 0
    """E-mails the SMTP server received more than once (same Message-ID)."""


def judge_burst(burst: dict[str, str], effects: BurstEffects) -> BurstVerdict:
    """Every habilitation: one account, one activation, known to declaration, every e-mail
    queued once and delivered once. Lost and duplicates counted over all those effects."""
    details: list[str] = []
    lost = duplicates = redeliveries = 0
    for habilitation_id in burst:
        for what, counter in (("account", effects.accounts), ("activation", effects.activations)):
            n = counter[habilitation_id]
            lost += n == 0
            duplicates += max(0, n - 1)
            if n != 1:
                details.append(f"{what} x{n} for habilitation {habilitation_id}")
    lost += len(burst) - effects.declarers
    addresses = {email.lower() for email in burst.values()}
    mailed = {email for email, _ in effects.mails}
    lost += len(addresses - mailed)
    unsent = 0
    for (email, kind), (rows, status, mail_ids) in effects.mails.items():
        duplicates += rows - 1
        if rows != 1:
            details.append(f"{rows} {kind} e-mails queued for {email}")
        for mail_id in mail_ids:
            delivered = effects.mail_deliveries(mail_id)
            redeliveries += max(0, delivered - 1)
            unsent += delivered == 0 or status != "sent"
            if delivered > 1:
                details.append(f"{kind} e-mail {mail_id} delivered {delivered} times")
    complete = lost == 0 and unsent == 0
    events_out = sum(1 for h in burst if effects.accounts[h] and effects.activations[h])
    return BurstVerdict(
        len(burst), events_out, duplicates, lost + unsent, complete, details, redeliveries
    )


async def habilitate_burst(
    world: World, count: int, into: dict[str, str], *, concurrency: int = 3,
    per_second: float | None = None,
) -> dict[str, str]:  # fmt: skip
    """``count`` people habilitated by the tenant's RGC, each added to ``into`` (habilitation id
    -> address) as soon as it is recorded, for a test to watch the burst progress; at most
    ``per_second`` started a second (a burst that lasts, for a fault to meet it under way)."""
    tenant, gate = world.tenant, asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        email = f"burst.{tenant.seed}.{uuid.uuid4().hex[:8]}.{index}@of.example"
        async with gate:
            into[await habilitate(world, tenant.organisation_id, tenant.rgc, email)] = email

    async with asyncio.TaskGroup() as group:
        for index in range(count):
            group.create_task(one(index))
            if per_second is not None:
                await asyncio.sleep(1 / per_second)
    return into


async def accounts_opened(world: World, burst: dict[str, str]) -> int:
    async with world.platform.database("identity") as db:
        found = await db.fetchval(
            "SELECT count(*) FROM account WHERE habilitation_id = ANY($1::uuid[])", list(burst)
        )
    return int(found)


async def mails_queued(world: World, burst: dict[str, str]) -> int:
    async with world.platform.database("notification") as db:
        found = await db.fetchval(
            "SELECT count(*) FROM notification WHERE lower(recipient_email) = ANY($1::text[])",
            [email.lower() for email in burst.values()],
        )
    return int(found)


# ---------------------------------------------------------------------------------------------
# The report


@dataclass
class FaultRow:
    fault: str
    events_in: int = 0
    events_out: int = 0
    duplicates: int = 0
    lost: int = 0
    recovery_s: float | None = None
    redelivered: int = 0
    notes: str = ""
    outcome: str = "unfinished"

    def count(self, tally: Tally) -> None:
        """Take events in, out, duplicates, lost and redelivered from a topic's tally."""
        self.events_in, self.events_out = tally.events_in, tally.events_out
        self.duplicates, self.lost, self.redelivered = (
            tally.duplicates, tally.lost, tally.redelivered,
        )  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        return {
            "fault": self.fault, "events_in": self.events_in, "events_out": self.events_out,
            "duplicates": self.duplicates, "lost": self.lost,
            "recovery_s": None if self.recovery_s is None else round(self.recovery_s, 1),
            "redelivered": self.redelivered, "notes": self.notes, "outcome": self.outcome,
        }  # fmt: skip


def format_table(rows: list[dict[str, Any]]) -> str:
    columns = ["fault", "events_in", "events_out", "duplicates", "lost", "recovery_s",
               "redelivered", "outcome"]  # fmt: skip
    cells = [[("-" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in cells]
    notes = [f"  {row['fault']}: {row['notes']}" for row in rows if row.get("notes")]
    return "\n".join(lines + (["notes:", *notes] if notes else []))


async def settle_burst(
    world: World, burst: dict[str, str], since: float, *, timeout: float = 150.0
) -> tuple[BurstVerdict, float | None]:
    """Wait until every effect of the burst happened (or ``timeout``): the last verdict and the
    seconds from ``since`` (the fault's end) until it was complete, None if it never was."""
    deadline = time.monotonic() + timeout
    while True:
        verdict = judge_burst(burst, await burst_effects(world, burst))
        if verdict.complete:
            return verdict, time.monotonic() - since
        if time.monotonic() > deadline:
            return verdict, None
        await asyncio.sleep(1.0)


def record_burst(row: FaultRow, verdict: BurstVerdict, recovery: float | None) -> None:
    row.events_in, row.events_out = verdict.events_in, verdict.events_out
    row.duplicates = verdict.duplicates + verdict.mail_redeliveries
    row.lost, row.recovery_s = verdict.lost, recovery
    row.notes = "; ".join(
        [f"{verdict.mail_redeliveries} e-mail(s) delivered twice"] * bool(verdict.mail_redeliveries)
        + verdict.details[:5]
    )


# ---------------------------------------------------------------------------------------------
# Poison and schema-violating records, raw on the platform's topics

#: Who consumes each topic: the inbox/consumer names of the consuming services.
CONSUMERS = {
    "kairos.identity.v1": ("identity-view", "access-identity", "mail-identity"),
    "kairos.habilitation.v1": ("accounts", "access-habilitation", "mail-habilitation"),
    "kairos.declaration.v1": ("mail-declaration",),
}


@dataclass(frozen=True)
class BadRecord:
    """A record produced raw: where it landed and what is wrong with it."""

    kind: str
    """``not-a-cloudevent``, ``schema-violating`` or ``poison``."""
    topic: str
    partition: int
    offset: int


def mutations(
    template: ConsumerRecord[bytes, bytes], id_field: str
) -> list[tuple[str, bytes, list[tuple[str, bytes]]]]:
    """From a real event: (kind, value, headers) of a record that is no CloudEvent, one whose
    data violates its schema (``id_field`` missing) and a poison one that fits its schema but
    names an aggregate that cannot exist (``id_field`` not a UUID): its handlers fail."""
    data = json.loads(template.value or b"{}")

    def headers() -> list[tuple[str, bytes]]:
        fresh = [(k, v) for k, v in template.headers or () if k != "ce_id"]
        return [*fresh, ("ce_id", str(uuid.uuid4()).encode())]

    missing = {k: v for k, v in data.items() if k != id_field}
    poison = {**data, id_field: "poison-not-a-uuid"}
    return [
        ("not-a-cloudevent", b"\x00\xffnot json", []),
        ("schema-violating", json.dumps(missing).encode(), headers()),
        ("poison", json.dumps(poison).encode(), headers()),
    ]


async def produce_everywhere(
    bootstrap_servers: str,
    template: ConsumerRecord[bytes, bytes],
    id_field: str,
) -> list[BadRecord]:
    """The three bad records on every partition of the template's topic: whatever partition a
    later event lands on, it is queued behind them."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers.split(","), enable_idempotence=True, acks="all"
    )
    await producer.start()
    produced: list[BadRecord] = []
    try:
        partitions = sorted(await producer.partitions_for(template.topic))
        for partition in partitions:
            for kind, value, headers in mutations(template, id_field):
                sent = await producer.send_and_wait(
                    template.topic, value, key=template.key, headers=headers, partition=partition
                )
                produced.append(BadRecord(kind, template.topic, sent.partition, sent.offset))
    finally:
        await producer.stop()
    return produced


async def find_record(
    bootstrap_servers: str, topic: str, event_type: str, match: Callable[[dict[str, Any]], bool]
) -> ConsumerRecord[bytes, bytes]:
    async def found() -> ConsumerRecord[bytes, bytes] | None:
        for record in await read_topic(bootstrap_servers, topic):
            if header(record, "ce_type") == event_type and match(json.loads(record.value or b"{}")):
                return record
        return None

    return await wait_for(found, f"a {event_type} on {topic}")


async def consumed_to_the_end(
    bootstrap_servers: str, topic: str, group_id: str, *, timeout: float = 60.0
) -> None:
    """Until consumer group ``group_id`` committed, on every partition of ``topic``, past what
    the topic holds now: everything on it so far was applied (or parked) by that consumer — the
    barrier before checking that something did NOT happen (a second application, say)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers.split(","))
    await producer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await producer.partitions_for(topic)]
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers.split(","), group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers.split(","))
    await admin.start()
    try:

        async def past() -> bool:
            committed = await admin.list_consumer_group_offsets(group_id, partitions=partitions)
            return all(
                end == 0 or (p in committed and committed[p].offset >= end)
                for p, end in ends.items()
            )

        await until(past, f"{group_id} to commit past the end of {topic}", timeout=timeout)
    finally:
        await admin.close()


async def skip_dead_letters(bootstrap_servers: str, dlq_topic: str, group_id: str) -> None:
    """Commit the replay group at the end of ``dlq_topic``: the letters there are not replayed
    (an operator's "these are known, leave them")."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers.split(","))
    await producer.start()
    try:
        partitions = [
            TopicPartition(dlq_topic, p) for p in await producer.partitions_for(dlq_topic)
        ]
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers.split(","), group_id=group_id,
        enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        parked = {partition: end for partition, end in ends.items() if end > 0}
        if parked:  # none when this test runs alone
            await consumer.commit(parked)
    finally:
        await consumer.stop()
