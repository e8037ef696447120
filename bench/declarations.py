"""Declarations accepted per second, over HTTP, end to end until the last one's event is on the
integrators' topic, against raw asyncpg writes of the same rows to the same PostgreSQL server.

Run: ``.venv/bin/python bench/declarations.py [--quick] [--profile DIR]``. The whole platform is
started as real processes on a durable PostgreSQL (fsync on) and a real Kafka, then stopped.
Every figure is printed beside its raw baseline, measured in the same run on the same server.

- single: ``CLIENTS`` concurrent clients, each a habilitated trainer of one of the OFs, declare
  entries of new trainees (``POST .../entries``, an ``Idempotency-Key`` each) one after another;
  accepted/s counts from the first request to the last event read on ``kairos.declaration.v1``
  (an aiokafka consumer started before), HTTP/s to the last 201.
- batch: each OF sends monthly attendance batches of ``BATCH_ROWS`` rows
  (``POST .../attendance-statements/batch``), one OF per concurrent client, for the trainees the
  first single run entered (attendance needs an entry): last month's with one replica, this
  month's with two; rows/s until the last row's event.
- raw single: the same entry rows, one ``INSERT`` + commit each (autocommit) at the same
  concurrency, into the service's own ``declaration_version`` table (its migrations applied to
  a scratch database on the declaration service's server).
- raw batch: the same attendance rows, one ``copy_records_to_table`` per batch of
  ``BATCH_ROWS``, at the same concurrency, into the same table (``COPY_ROUNDS`` times over).
- replicas: both service runs again (a quarter as many single entries) with a second declaration
  process (same database, its own outbox relay); the clients take the two URLs in turn.

Before each run the platform is left to finish the previous one (``quiesce``: the notification
service consumes every declaration event too, on the same cores).
- memory: RSS of every service process idle (after start) and its peak under each load.
- CPU: milliseconds of CPU per declaration (or row) of each process (the declaration service,
  its PostgreSQL server, Kafka, the other services, this load generator), less what each spends
  idle (measured for ``IDLE_SECONDS`` before the runs): on a small machine the platform's
  processes share the cores, and this says who the throughput is paid to.

The load generator speaks HTTP/1.1 over its own keep-alive connections (``HttpClient``): httpx
would spend more CPU per request than the service's own handler, on the same cores.

``--profile DIR`` also records the declaration process with py-spy during the one-replica runs
(collapsed stacks, ``py-spy record --format raw``): ``DIR/single.txt`` and ``DIR/batch.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from infra import headline, percentile, write_results
from meters import CpuMeter, Pids, idle_cores, profiling, resident_mib, rss_peaks, service_pid
from running_platform import Tenants, add_replica, running_platform, tenants

from kairos_declaration.bootstrap import MIGRATIONS
from kairos_declaration.domain.declarations import Attendance, Entry
from kairos_declaration.domain.months import Month
from kairos_declaration.service_layer.payloads import payload_of
from kairos_devstack.process_platform import ProcessPlatform
from kairos_devstack.soak import OF, Person
from kairos_devstack.story_clients import bearer
from kairos_schemas import declaration as contracts
from kairos_shared.migrations import apply_migrations
from kairos_shared.runtime import SHARED_MIGRATIONS

ORGANISATIONS = 4
PEOPLE = 4
"""Habilitated trainers per OF: CLIENTS = ORGANISATIONS * PEOPLE, one client each."""
CLIENTS = ORGANISATIONS * PEOPLE
BATCH_ROWS = 500
BATCH_CLIENTS = ORGANISATIONS
"""Concurrent batches: every OF sends its month at once."""
ATTENDED_HOURS = 70
COPY_ROUNDS = 10
"""The raw COPY of the batch rows is over in tens of milliseconds: it is timed this many
times over (fresh declaration ids each time)."""
PROFILE_RATE = 200
"""py-spy samples per second (``--profile``)."""
IDLE_SECONDS = 3.0
"""How long each process's idle CPU spending is measured for (before the runs)."""
QUIET_TIMEOUT = 60.0
"""Before each run, the platform is left to finish the previous one (`backlog`), this long
at most."""
SETTLE_TIMEOUT = 180.0
"""Seconds to wait for the last event on the topic after the last answer."""

_VERSION_COLUMNS = (
    "declaration_id", "version", "organisation_id", "kind", "action_number", "session_number",
    "trainee_id", "payload", "cancelled", "reason", "declared_by", "declared_at", "due_by", "late",
)  # fmt: skip
_INSERT_VERSION = (
    f"INSERT INTO declaration_version ({', '.join(_VERSION_COLUMNS)}) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(_VERSION_COLUMNS) + 1))})"
)


# --- what is declared -----------------------------------------------------------------------


@dataclass(frozen=True)
class Declarer:
    of: OF
    person: Person


@dataclass(frozen=True)
class Planned:
    """One declaration about one trainee of an OF, by one of its trainers."""

    declarer: Declarer
    trainee: str


@dataclass
class Plan:
    """Trainees numbered across the whole run (an id is 7 digits then a letter)."""

    month: date
    trainees: int = 0

    def singles(self, declarers: Sequence[Declarer], count: int) -> list[list[Planned]]:
        """``count`` entries of new trainees, dealt to one client per declarer."""
        lanes: list[list[Planned]] = [[] for _ in declarers]
        for i in range(count):
            self.trainees += 1
            declarer = declarers[i % len(declarers)]
            lanes[i % len(declarers)].append(Planned(declarer, _id(self.trainees)))
        return lanes

    @staticmethod
    def batches(singles: list[list[Planned]]) -> list[list[list[Planned]]]:
        """Per OF, its trainees entered by ``singles`` in batches of ``BATCH_ROWS``."""
        by_of: dict[str, list[Planned]] = {}
        for planned in (p for lane in singles for p in lane):
            by_of.setdefault(planned.declarer.of.id, []).append(planned)
        return [
            [rows[i : i + BATCH_ROWS] for i in range(0, len(rows), BATCH_ROWS)]
            for rows in by_of.values()
        ]

    def entry_body(self, planned: Planned) -> dict[str, Any]:
        return {"session": planned.declarer.of.session, "trainee_id": planned.trainee,
                "entered_on": self.month.isoformat()}  # fmt: skip

    def attendance_body(self, planned: Planned, month: date) -> dict[str, Any]:
        return {"session": planned.declarer.of.session, "trainee_id": planned.trainee,
                "month": f"{month:%Y-%m}", "attended_hours": ATTENDED_HOURS}  # fmt: skip

    def entry_row(self, planned: Planned) -> tuple[Any, ...]:
        payload = payload_of(Entry(planned.trainee, self.month, None))
        return self._row(planned, "entry", payload)

    def attendance_row(self, planned: Planned, month: date) -> tuple[Any, ...]:
        hours, zero = Decimal(ATTENDED_HOURS), Decimal(0)
        statement = Attendance(planned.trainee, Month(month.year, month.month), hours, zero, zero)
        payload = payload_of(statement)
        return self._row(planned, "attendance", payload)

    def _row(self, planned: Planned, kind: str, payload: dict[str, Any]) -> tuple[Any, ...]:
        """A ``declaration_version`` row as the service stores it."""
        of = planned.declarer.of
        return (
            uuid.uuid4(), 1, uuid.UUID(of.id), kind, of.session["action_number"],
            of.session["session_number"], planned.trainee, json.dumps(payload), False, None,
            _DECLARED_BY, datetime.now(UTC), self.month, False,
        )  # fmt: skip


_DECLARED_BY = uuid.uuid4()


def _next_month(first_day: date) -> date:
    return (first_day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _id(n: int) -> str:
    return f"{n % 10**7:07d}B"


# --- the integrators' topic -----------------------------------------------------------------


class Arrivals:
    """When each declaration's first event was read on the integrators' topic."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.consumer = AIOKafkaConsumer(
            contracts.TOPIC, bootstrap_servers=bootstrap_servers.split(","), group_id=None,
            enable_auto_commit=False, auto_offset_reset="earliest",
        )  # fmt: skip
        self.seen: dict[str, float] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self._task = asyncio.create_task(self._read())
        async with asyncio.timeout(30):
            while not self.consumer.assignment():  # noqa: ASYNC110 - aiokafka has no event for it
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()

    async def _read(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    with contextlib.suppress(ValueError, TypeError, KeyError):
                        self.seen.setdefault(json.loads(record.value)["declaration_id"], now)
            if batches:
                self._changed.set()

    async def last(self, ids: Collection[str]) -> float:
        """When the last of ``ids`` was read (waits for them)."""
        pending = set(ids)
        async with asyncio.timeout(SETTLE_TIMEOUT):
            while pending:
                self._changed.clear()
                pending = {i for i in pending if i not in self.seen}
                if pending:
                    await self._changed.wait()
        return max(self.seen[i] for i in ids)


async def backlog(platform: ProcessPlatform, arrivals: Arrivals) -> int:
    """What the platform still has to do about what was declared: the declaration service's
    unpublished outbox rows, the records of the integrators' topic a consumer group (the
    notification service mails about declarations) has not committed, and the e-mails queued.
    (A benchmark reads the notification service's database: read-only, loopback.)"""
    pending = 0
    for service, query in (
        ("declaration", "SELECT count(*) FROM outbox WHERE published_at IS NULL"),
        ("notification", "SELECT count(*) FROM notification WHERE status = 'queued'"),
    ):
        async with platform.database(service) as connection:
            pending += int(await connection.fetchval(query))
    partitions = list(arrivals.consumer.assignment())
    ends = await arrivals.consumer.end_offsets(partitions)
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.kafka.bootstrap_servers.split(","))
    await admin.start()
    try:
        for group, *_ in await admin.list_consumer_groups():
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
            pending += sum(
                ends[p] - offset.offset
                for p, offset in committed.items()
                if p in ends and offset.offset >= 0
            )
    finally:
        await admin.close()
    return pending


# --- CPU ------------------------------------------------------------------------------------


def cpu_groups(platform: ProcessPlatform) -> dict[str, Pids]:
    """Whose CPU is told apart: each service process, the declaration service's PostgreSQL
    server (every backend, ended ones included), the Kafka broker(s), the SMTP sink and this
    process (the clients)."""
    groups = {p.name: Pids([service_pid(p)]) for p in platform.all_processes() if p.running}
    server = platform.declaration_postgres.process
    if server is not None:
        groups["postgres-declaration"] = Pids([server.pid], tree=True)
    groups["kafka"] = Pids([p.pid for p in platform.kafka.processes.values()])
    if platform.smtp.process is not None:
        groups["smtp-sink"] = Pids([platform.smtp.process.pid])
    groups["bench-clients"] = Pids([os.getpid()])
    return groups


def cpu_ms(meter: CpuMeter, items: int) -> dict[str, dict[str, float]]:
    """Per item: all the CPU spent, and what is left once the idle spending is taken off."""
    return {"gross": meter.per_item_ms(items), "net": meter.per_item_ms(items, net=True)}


# --- raw baselines ---------------------------------------------------------------------------


async def scratch_database(platform: ProcessPlatform, tenants_: Tenants) -> str:
    """A database on the declaration service's server with its tables, and the OFs' sessions
    (the versions' foreign key)."""
    server = platform.declaration_postgres
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server.dsn("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = server.dsn(name)
    connection = await asyncpg.connect(dsn)
    try:
        await apply_migrations(connection, SHARED_MIGRATIONS, component="kairos_shared")
        await apply_migrations(connection, MIGRATIONS, component="declaration")
        month = tenants_.soak.month
        for of in tenants_.organisations:
            await connection.execute(
                """INSERT INTO training_session VALUES ($1, $2, $3, $4, $5, 35, $6, now())""",
                uuid.UUID(of.id), of.session["action_number"], of.session["session_number"],
                month, month.replace(year=month.year + 1), uuid.uuid4(),
            )  # fmt: skip
    finally:
        await connection.close()
    return dsn


async def raw_inserts(dsn: str, lanes: Sequence[Sequence[tuple[Any, ...]]]) -> dict[str, Any]:
    """One INSERT + commit per row, a connection per lane, all lanes at once."""
    pool = await asyncpg.create_pool(dsn, min_size=len(lanes), max_size=len(lanes))
    assert pool is not None

    async def lane(rows: Sequence[tuple[Any, ...]]) -> None:
        async with pool.acquire() as connection:
            for row in rows:
                await connection.execute(_INSERT_VERSION, *row)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(lane(rows) for rows in lanes))
        elapsed = time.perf_counter() - started
    finally:
        await pool.close()
    count = sum(len(rows) for rows in lanes)
    return {"rows": count, "seconds": elapsed, "rows_per_s": count / elapsed}


async def raw_copies(
    dsn: str, lanes: Sequence[Sequence[Sequence[tuple[Any, ...]]]]
) -> dict[str, Any]:
    """One ``copy_records_to_table`` (its own transaction) per batch, a connection per lane."""
    pool = await asyncpg.create_pool(dsn, min_size=len(lanes), max_size=len(lanes))
    assert pool is not None

    async def lane(batches: Sequence[Sequence[tuple[Any, ...]]]) -> None:
        async with pool.acquire() as connection:
            for rows in batches:
                await connection.copy_records_to_table(
                    "declaration_version", records=rows, columns=_VERSION_COLUMNS
                )

    try:
        started = time.perf_counter()
        await asyncio.gather(*(lane(batches) for batches in lanes))
        elapsed = time.perf_counter() - started
    finally:
        await pool.close()
    count = sum(len(rows) for batches in lanes for rows in batches)
    return {"rows": count, "seconds": elapsed, "rows_per_s": count / elapsed}


# --- the service ----------------------------------------------------------------------------


class HttpClient:
    """Keep-alive HTTP/1.1 connections to one service process, one per concurrent caller, and
    nothing else: httpx spends milliseconds of CPU per request, on the same two cores as the
    service it would measure; this spends a tenth of that. A connection the server closed while
    idle is replaced and the request sent again (its ``Idempotency-Key`` makes that safe)."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        assert parts.hostname is not None
        assert parts.port is not None
        self.host, self.port = parts.hostname, parts.port
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._writers: list[asyncio.StreamWriter] = []

    async def post(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, bytes]:
        payload = json.dumps(body).encode()
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n{head}\r\n"
        ).encode() + payload
        reused = bool(self._idle)
        try:
            return await self._exchange(request)
        except (asyncio.IncompleteReadError, ConnectionError):
            if not reused:
                raise
            for _, writer in self._idle:  # closed by the server while idle, as this one was
                writer.close()
            self._idle.clear()
            return await self._exchange(request)

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self._idle:
            reader, writer = self._idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self._writers.append(writer)
        writer.write(request)
        lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        fields = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(b":") for line in lines[1:] if line)
        }
        content = await reader.readexactly(int(fields[b"content-length"]))
        if fields.get(b"connection", b"").lower() == b"close":
            writer.close()
        else:
            self._idle.append((reader, writer))
        return int(lines[0].split()[1]), content

    async def aclose(self) -> None:
        for writer in self._writers:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def http_clients(urls: Sequence[str]) -> AsyncIterator[list[HttpClient]]:
    clients = [HttpClient(url) for url in urls]
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose()


async def _post(
    client: HttpClient, planned: Planned, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    headers = bearer(planned.declarer.person.token) | {"Idempotency-Key": str(uuid.uuid4())}
    status, content = await client.post(
        f"/v1/organisations/{planned.declarer.of.id}/{path}", body, headers
    )
    if status != httpx.codes.CREATED:
        raise RuntimeError(f"POST {path}: {status} {content[:500]!r}")
    answer: dict[str, Any] = json.loads(content)
    return answer


async def http_singles(
    clients: Sequence[HttpClient], plan: Plan, lanes: list[list[Planned]],
    arrivals: Arrivals,
) -> dict[str, Any]:  # fmt: skip
    """Every lane's entries one after another, all lanes at once, lane i on client i mod n."""
    ids: list[str] = []
    latencies: list[float] = []

    async def lane(client: HttpClient, planned: list[Planned]) -> None:
        for one in planned:
            sent = time.perf_counter()
            answer = await _post(client, one, "entries", plan.entry_body(one))
            latencies.append((time.perf_counter() - sent) * 1000)
            ids.append(answer["declaration_id"])

    started = time.perf_counter()
    await asyncio.gather(*(lane(clients[i % len(clients)], p) for i, p in enumerate(lanes)))
    answered = time.perf_counter() - started
    last = await arrivals.last(ids) - started
    return {
        "declarations": len(ids), "clients": len(lanes), "http_seconds": answered,
        "http_per_s": len(ids) / answered, "seconds": last, "per_s": len(ids) / last,
        "latency_p50_ms": percentile(latencies, 50), "latency_p99_ms": percentile(latencies, 99),
    }  # fmt: skip


async def http_batches(
    clients: Sequence[HttpClient], plan: Plan, lanes: list[list[list[Planned]]], month: date,
    arrivals: Arrivals,
) -> dict[str, Any]:  # fmt: skip
    """Every OF's batches for ``month`` one after another, all OFs at once; the clients (one
    per replica) taken in turn."""
    ids: list[str] = []
    latencies: list[float] = []
    turn = iter(range(10**9))

    async def lane(batches: list[list[Planned]]) -> None:
        for rows in batches:
            client = clients[next(turn) % len(clients)]
            body = {"rows": [plan.attendance_body(row, month) for row in rows]}
            sent = time.perf_counter()
            answer = await _post(client, rows[0], "attendance-statements/batch", body)
            latencies.append((time.perf_counter() - sent) * 1000)
            if answer["accepted"] != len(rows):
                raise RuntimeError(f"batch: {answer['rejected']} rows rejected")
            ids.extend(row["declaration_id"] for row in answer["rows"])

    started = time.perf_counter()
    await asyncio.gather(*(lane(batches) for batches in lanes))
    answered = time.perf_counter() - started
    last = await arrivals.last(ids) - started
    batches = sum(len(b) for b in lanes)
    read = [arrivals.seen[i] - started for i in ids]
    return {
        "rows": len(ids), "batches": batches, "clients": len(lanes), "http_seconds": answered,
        "http_rows_per_s": len(ids) / answered, "seconds": last, "rows_per_s": len(ids) / last,
        "batch_p50_ms": percentile(latencies, 50), "batch_p99_ms": percentile(latencies, 99),
        "events_read_at_s": {"p10": percentile(read, 10), "p50": percentile(read, 50),
                             "p90": percentile(read, 90), "p100": max(read)},
    }  # fmt: skip


@dataclass
class Run:
    platform: ProcessPlatform
    tenants: Tenants
    plan: Plan
    arrivals: Arrivals
    profile: Path | None
    results: dict[str, Any] = field(default_factory=dict)
    idle: dict[str, float] = field(default_factory=dict)

    @property
    def declarers(self) -> list[Declarer]:
        return [Declarer(of, person) for of, person in self.tenants.people]

    async def service_runs(
        self, label: str, lanes: list[list[Planned]], batches: list[list[list[Planned]]],
        month: date,
    ) -> None:  # fmt: skip
        """``lanes`` of single entries, then ``batches`` of attendance for ``month``, over
        every replica of the declaration service."""
        replicas = self.platform.services["declaration"]
        urls = [replica.url for replica in replicas]
        processes = self.platform.all_processes()
        profile = None if self.profile is None or len(replicas) > 1 else self.profile
        pid = service_pid(replicas[0])
        meter = CpuMeter(cpu_groups(self.platform), self.idle)

        def spy(name: str) -> contextlib.AbstractAsyncContextManager[None]:
            return profiling(pid, profile and profile / name, rate=PROFILE_RATE)

        async with http_clients(urls) as clients:
            waited = await self.quiesce()
            with meter.measuring():
                async with rss_peaks(processes) as memory, spy("single.txt"):
                    single = await http_singles(clients, self.plan, lanes, self.arrivals)
            single["quiesced_after_s"] = waited
            single["rss_peak_mib"] = memory.peak
            single["cpu_ms_per_declaration"] = cpu_ms(meter, single["declarations"])
            waited = await self.quiesce()
            with meter.measuring():
                async with rss_peaks(processes) as memory, spy("batch.txt"):
                    batch = await http_batches(clients, self.plan, batches, month, self.arrivals)
            batch["quiesced_after_s"] = waited
            batch["month"] = f"{month:%Y-%m}"
            batch["rss_peak_mib"] = memory.peak
            batch["cpu_ms_per_row"] = cpu_ms(meter, batch["rows"])
        self.results[label] = {"replicas": len(replicas), "single": single, "batch": batch}

    async def quiesce(self) -> float:
        """Wait until the platform is done with the previous run, or ``QUIET_TIMEOUT``: the
        seconds waited (see `backlog`)."""
        started = time.perf_counter()
        while time.perf_counter() - started < QUIET_TIMEOUT:
            if await backlog(self.platform, self.arrivals) == 0:
                break
            await asyncio.sleep(0.5)
        return time.perf_counter() - started

    async def idle_cpu(self, label: str) -> None:
        """What every process spends doing nothing, taken off the per-item figures."""
        await self.quiesce()
        cores = await idle_cores(cpu_groups(self.platform), IDLE_SECONDS)
        self.idle.update(cores)
        self.results.setdefault("cpu_idle_ms_per_s", {})[label] = {
            name: 1000 * rate for name, rate in cores.items()
        }

    async def raw_runs(self, lanes: list[list[Planned]], month: date) -> None:
        dsn = await scratch_database(self.platform, self.tenants)
        plan, meter = self.plan, CpuMeter(cpu_groups(self.platform), self.idle)
        rows = [[plan.entry_row(p) for p in lane] for lane in lanes]
        with meter.measuring():
            single = await raw_inserts(dsn, rows)
        single["cpu_ms_per_row"] = cpu_ms(meter, single["rows"])
        batches = [  # the same rows again COPY_ROUNDS times (new ids): a measurable time
            [[plan.attendance_row(p, month) for p in rows] for _ in range(COPY_ROUNDS)
             for rows in batches]
            for batches in plan.batches(lanes)
        ]  # fmt: skip
        with meter.measuring():
            batch = await raw_copies(dsn, batches)
        batch["cpu_ms_per_row"] = cpu_ms(meter, batch["rows"])
        self.results["raw_single"], self.results["raw_batch"] = single, batch


async def main(singles: int, profile: Path | None) -> dict[str, Any]:
    async with running_platform() as platform:
        idle = resident_mib(platform.all_processes())
        async with tenants(platform, organisations=ORGANISATIONS, people=PEOPLE) as prepared:
            plan = Plan(prepared.soak.month)
            arrivals = Arrivals(platform.kafka.bootstrap_servers)
            await arrivals.start()
            try:
                run = Run(platform, prepared, plan, arrivals, profile)
                # The trainees the first single run enters get their attendance in batches,
                # last month's with one replica and this month's with two (a session began
                # last month: no other month is open).
                first = plan.singles(run.declarers, singles)
                second = plan.singles(run.declarers, singles // 4)
                batches = plan.batches(first)
                last_month, this_month = plan.month, _next_month(plan.month)
                await run.idle_cpu("replicas_1")
                await run.raw_runs(first, last_month)
                await run.service_runs("replicas_1", first, batches, last_month)
                replica = await add_replica(platform, "declaration")
                idle |= resident_mib([replica])
                await run.idle_cpu("replicas_2")
                await run.service_runs("replicas_2", second, batches, this_month)
            finally:
                await arrivals.stop()
    results = run.results
    results["rss_idle_mib"] = idle
    rows = results["replicas_1"]["batch"]["rows"] // results["replicas_1"]["batch"]["batches"]
    results["sizes"] = {
        "singles_1_replica": singles, "singles_2_replicas": singles // 4, "clients": CLIENTS,
        "organisations": ORGANISATIONS, "batch_rows": rows, "batch_clients": BATCH_CLIENTS,
    }  # fmt: skip
    results["headline"] = headlines(results)
    print(
        f"declarations: {singles} (1 replica) and {singles // 4} (2 replicas) entries by "
        f"{CLIENTS} clients of {ORGANISATIONS} OFs; attendance of the first {singles} trainees "
        f"in batches of {rows} rows, {BATCH_CLIENTS} at once (one per OF)"
    )
    print(_table(results))
    print()
    print(_memory(results))
    print()
    print(_cpu_table(results))
    return results


def headlines(results: dict[str, Any]) -> list[dict[str, Any]]:
    """``make bench``'s summary lines: each run to the topic, against its raw baseline."""
    raw_single, raw_batch = results["raw_single"]["rows_per_s"], results["raw_batch"]["rows_per_s"]
    lines = []
    for label in ("replicas_1", "replicas_2"):
        run, n = results[label], results[label]["replicas"]
        lines += [
            headline(f"single declarations to the topic, {n} replica(s)", "decl/s", raw_single,
                     run["single"]["per_s"], ">= 0.33"),
            headline(f"500-row batches to the topic, {n} replica(s)", "rows/s", raw_batch,
                     run["batch"]["rows_per_s"], ">= 0.5"),
        ]  # fmt: skip
    return lines


def _table(results: dict[str, Any]) -> str:
    raw_single, raw_batch = results["raw_single"]["rows_per_s"], results["raw_batch"]["rows_per_s"]
    rows: list[tuple[str, float, float, str]] = []
    for label in ("replicas_1", "replicas_2"):
        run = results[label]
        n = run["replicas"]
        rows += [
            (f"single/s, {n} replica(s), to topic", raw_single, run["single"]["per_s"], ">= 0.33"),
            (f"single/s, {n} replica(s), 201s", raw_single, run["single"]["http_per_s"], ""),
            (f"batch rows/s, {n} replica(s), to topic", raw_batch, run["batch"]["rows_per_s"],
             ">= 0.50"),
            (f"batch rows/s, {n} replica(s), 201s", raw_batch, run["batch"]["http_rows_per_s"],
             ""),
        ]  # fmt: skip
    lines = [f"{'measure':<40}{'raw baseline':>14}{'kairos':>11}{'ratio':>9}{'goal':>10}"]
    lines += [
        f"{name:<40}{base:>14.1f}{ours:>11.1f}{ours / base:>9.3f}{goal:>10}"
        for name, base, ours, goal in rows
    ]
    for label in ("replicas_1", "replicas_2"):
        run = results[label]
        lines.append(
            f"latency, {run['replicas']} replica(s): single p50 "
            f"{run['single']['latency_p50_ms']:.0f} ms, p99 {run['single']['latency_p99_ms']:.0f}"
            f" ms; batch of {results['sizes']['batch_rows']} rows p50 "
            f"{run['batch']['batch_p50_ms']:.0f} ms, p99 {run['batch']['batch_p99_ms']:.0f} ms"
        )
    return "\n".join(lines)


def _cpu_table(results: dict[str, Any]) -> str:
    """CPU milliseconds per declaration (or batch row), by who spent them, idle spending off."""
    runs = ("replicas_1", "replicas_2")
    measures = [
        ("raw insert+commit", results["raw_single"]["cpu_ms_per_row"]["net"]),
        *((f"single, {results[k]['replicas']}r",
           results[k]["single"]["cpu_ms_per_declaration"]["net"]) for k in runs),
        ("raw COPY", results["raw_batch"]["cpu_ms_per_row"]["net"]),
        *((f"batch row, {results[k]['replicas']}r", results[k]["batch"]["cpu_ms_per_row"]["net"])
          for k in runs),
        *((f"idle, ms/s, {k[-1]}r", results["cpu_idle_ms_per_s"][k]) for k in runs),
    ]  # fmt: skip
    columns = ["declaration", "postgres-declaration", "kafka", "other services", "bench-clients"]
    lines = [f"{'CPU ms per item':<20}" + "".join(f"{c:>21}" for c in columns)]
    for name, spent in measures:
        groups = dict.fromkeys(columns, 0.0)
        for process, ms in spent.items():
            group = "declaration" if process.startswith("declaration-") else process
            groups[group if group in groups else "other services"] += ms
        lines.append(f"{name:<20}" + "".join(f"{groups[c]:>21.3f}" for c in columns))
    return "\n".join(lines)


def _memory(results: dict[str, Any]) -> str:
    idle = results["rss_idle_mib"]
    columns = [
        (f"{kind} {results[label]['replicas']}r", results[label][kind]["rss_peak_mib"])
        for label in ("replicas_1", "replicas_2")
        for kind in ("single", "batch")
    ]
    lines = [f"{'RSS (MiB)':<18}{'idle':>8}" + "".join(f"{name:>12}" for name, _ in columns)]
    for name, mib in idle.items():
        peaks = "".join(
            f"{peak[name]:>12.0f}" if name in peak else f"{'-':>12}" for _, peak in columns
        )
        lines.append(f"{name:<18}{mib:>8.0f}{peaks}")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--singles", type=int, default=None, help="entries with one replica (a quarter with two)"
    )
    parser.add_argument("--quick", action="store_true", help="small counts, to try it out")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy output folder")
    args = parser.parse_args()
    count = args.singles or (400 if args.quick else 2000)
    results = asyncio.run(main(count, args.profile))
    print(f"results: {write_results('declarations', results)}")
