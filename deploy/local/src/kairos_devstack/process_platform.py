"""The platform as real child processes, each of which a caller may SIGKILL, restart or run
twice, by pid: what ``make run`` starts — Kafka (one broker, or three with replication 3 and
``min.insync.replicas=2``), PostgreSQL, the SMTP sink and the four services — with the
declaration service on a PostgreSQL server of its own (so that it can be crashed alone).

Used by the fault suite (``tests/faults``, :mod:`kairos_devstack.faults`) and the benchmarks
(``bench/``): ``durable=True`` keeps PostgreSQL's fsync, which a benchmark must pay for.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kairos_devstack.kafka import KafkaCluster
from kairos_devstack.paths import repository_root
from kairos_devstack.postgres import FAST_SETTINGS, EmbeddedPostgres
from kairos_devstack.processes import ManagedProcess, StartupError, free_port, spawn
from kairos_devstack.story_clients import Endpoints, expect, open_hours_ahead
from kairos_devstack.topics import SERVICES, create_platform_topics

#: Short intervals and retries, so that a fault heals within a test's minutes.
TUNING = {
    "KAIROS_LOG_FORMAT": "json",
    "KAIROS_IDENTITY_ARGON2_MEMORY_KIB": "8192",
    "KAIROS_IDENTITY_ARGON2_TIME_COST": "1",
    "KAIROS_IDENTITY_DEADLINES_INTERVAL_SECONDS": "5",
    # Every adhesion of a test or story comes from this one address: not throttled here.
    "KAIROS_IDENTITY_ADHESION_REQUESTS_FREE": "100000",
    "KAIROS_IDENTITY_ADHESION_REQUESTS_LOCK_AFTER": "200000",
    # ... and so do its logins, refreshes and password changes, many at once in the benches.
    "KAIROS_IDENTITY_LOGIN_RATE_PER_ADDRESS_BURST": "1000000",
    "KAIROS_IDENTITY_LOGIN_RATE_GLOBAL_BURST": "1000000",
    "KAIROS_IDENTITY_PASSWORD_HASHING_QUEUE": "10000",
    "KAIROS_HABILITATION_DEADLINES_INTERVAL_SECONDS": "5",
    "KAIROS_NOTIFICATION_DELIVERY_INTERVAL_SECONDS": "1",
    "KAIROS_NOTIFICATION_DELIVERY_FIRST_RETRY_SECONDS": "2",
    "KAIROS_NOTIFICATION_DELIVERY_MAX_RETRY_SECONDS": "8",
    "KAIROS_NOTIFICATION_DELIVERY_MAX_ATTEMPTS": "40",
    "KAIROS_NOTIFICATION_SMTP_TIMEOUT_SECONDS": "5",
}
_DECLARATION_DB = "declaration"


def reports_dir() -> Path:
    return repository_root() / ".local" / "reports"


def _signing_key_pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


async def _http_ok(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(url)).status_code == httpx.codes.OK
    except httpx.HTTPError:
        return False


@dataclass
class ChildProcess:
    """A process of the platform that a test may kill (SIGKILL) and start again, by pid."""

    name: str
    argv: list[str]
    logs: Path
    ready_url: str
    env: dict[str, str] | None = None
    process: ManagedProcess | None = None
    starts: int = 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.is_running()

    def start(self) -> None:
        """Spawned from the calling thread, which must outlive it (the event loop's)."""
        if self.running:
            return
        self.starts += 1
        self.process = spawn(
            self.name, self.argv, log_path=self.logs / f"{self.name}.log", env=self.env,
            stop_timeout=20,
        )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind, as when a machine or a container dies."""
        if self.process is not None:
            self.process.stop_signal = signal.SIGKILL
            self.process.stop()
            self.process = None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL past the grace period."""
        if self.process is not None:
            self.process.stop()
            self.process = None

    async def wait_ready(self, timeout: float = 150.0) -> float:
        """Seconds until ``ready_url`` answered 200; fails if the process exits first."""
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=3.0) as client:
            while not await _http_ok(client, self.ready_url):
                if self.process is None or not self.process.is_running():
                    tail = "" if self.process is None else self.process.log_tail()
                    raise StartupError(f"{self.name} is not running:\n{tail}")
                if time.monotonic() - started > timeout:
                    raise StartupError(
                        f"{self.name} not ready after {timeout:.0f}s:\n{self.process.log_tail()}"
                    )
                await asyncio.sleep(0.25)
        return time.monotonic() - started


@dataclass
class ServiceProcess(ChildProcess):
    service: str = ""
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class SmtpSink(ChildProcess):
    """The SMTP sink as a process (its mail lives in memory: :meth:`collect` keeps what it
    received before a restart)."""

    http_port: int = 0
    smtp_port: int = 0
    received: dict[str, str] = field(default_factory=dict)
    """Sink id -> Message-ID of every message seen."""

    async def collect(self) -> Counter[str]:
        """Deliveries per Message-ID, everything received so far (restarts included)."""
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.get(
                f"http://127.0.0.1:{self.http_port}/api/v1/messages", params={"limit": 1_000_000}
            )
        for message in expect(response, 200)["messages"]:
            self.received[message["ID"]] = message["MessageID"]
        return Counter(self.received.values())


@dataclass
class ProcessPlatform:
    root: Path
    kafka: KafkaCluster
    postgres: EmbeddedPostgres
    """identity, habilitation and notification's server."""
    declaration_postgres: EmbeddedPostgres
    """The declaration service's own server: crashed alone."""
    smtp: SmtpSink
    offset_file: Path
    signing_key_pem: str = field(default_factory=_signing_key_pem, repr=False)
    services: dict[str, list[ServiceProcess]] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    """Every service's settings over :data:`TUNING` (and under what the platform sets)."""

    @classmethod
    def plan(
        cls, root: Path, *, brokers: int = 1, durable: bool = False,
        environment: dict[str, str] | None = None,
    ) -> ProcessPlatform:  # fmt: skip
        """``durable``: PostgreSQL with fsync and synchronous commits, as in production (what a
        benchmark must pay for); else without them, as the tests run."""
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)  # PostgreSQL runs as its own user and must reach its folders
        logs = root / "logs"
        ports = [(free_port(), free_port()) for _ in range(brokers)]
        http_port, smtp_port = free_port(), free_port()
        smtp = SmtpSink(
            "smtp-sink",
            [sys.executable, "-m", "kairos_devstack.smtp_sink",
             "--smtp-port", str(smtp_port), "--http-port", str(http_port)],
            logs, f"http://127.0.0.1:{http_port}/health/ready",
            http_port=http_port, smtp_port=smtp_port,
        )  # fmt: skip
        settings = {} if durable else FAST_SETTINGS
        platform = cls(
            root=root,
            kafka=KafkaCluster.plan(root / "kafka", ports, heap="384m"),
            postgres=EmbeddedPostgres(root / "postgres", free_port(), settings=settings),
            declaration_postgres=EmbeddedPostgres(
                root / "postgres-declaration", free_port(), settings=settings
            ),
            smtp=smtp,
            offset_file=root / "clock-offset",
            environment=environment or {},
        )
        for service in SERVICES:
            platform.services[service] = [platform._service_process(service, 1)]
        return platform

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def service(self, name: str, replica: int = 1) -> ServiceProcess:
        return next(p for p in self.services[name] if p.name == f"{name}-{replica}")

    def all_processes(self) -> list[ServiceProcess]:
        return [process for replicas in self.services.values() for process in replicas]

    def server_of(self, service: str) -> EmbeddedPostgres:
        return self.declaration_postgres if service == "declaration" else self.postgres

    def database_url(self, service: str) -> str:
        return self.server_of(service).dsn(service)

    def _service_process(self, service: str, replica: int) -> ServiceProcess:
        port, name = free_port(), f"{service}-{replica}"
        prefix = f"KAIROS_{service.upper()}_"
        identity_port = self.services["identity"][0].port if "identity" in self.services else port
        env = {
            **os.environ,
            **TUNING,
            **self.environment,
            "KAIROS_CLOCK_OFFSET_FILE": str(self.offset_file),
            "KAIROS_KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
            "KAIROS_JWKS_URL": f"http://127.0.0.1:{identity_port}/.well-known/jwks.json",
            "KAIROS_IDENTITY_SIGNING_KEY_PEM": self.signing_key_pem,
            "KAIROS_NOTIFICATION_SMTP_HOST": "127.0.0.1",
            "KAIROS_NOTIFICATION_SMTP_PORT": str(self.smtp.smtp_port),
            # Named, for a test to tell the replicas' connections apart (pg_stat_activity).
            f"{prefix}DATABASE_URL": f"{self.database_url(service)}?application_name={name}",
            f"{prefix}HTTP_PORT": str(port),
            f"{prefix}KAFKA_CONNECT_RETRY_MAX_SECONDS": "2",
        }
        return ServiceProcess(
            name, [sys.executable, "-m", f"kairos_{service}"], self.logs,
            f"http://127.0.0.1:{port}/health/ready", env, service=service, port=port,
        )  # fmt: skip

    def add_replica(self, service: str) -> ServiceProcess:
        """One more process of ``service`` (same database, same consumer groups): not started."""
        process = self._service_process(service, len(self.services[service]) + 1)
        self.services[service].append(process)
        return process

    async def start(self) -> None:
        servers = (self.postgres, self.declaration_postgres)
        # Preparing starts nothing that lives on: a worker thread may do it. Launching must be
        # done from this (the event loop's) thread, which outlives the children.
        await asyncio.gather(
            asyncio.to_thread(self.kafka.prepare), *(asyncio.to_thread(s.prepare) for s in servers)
        )
        self.kafka.launch()
        for server in servers:
            server.launch()
        await asyncio.to_thread(self.kafka.wait_ready)
        for server in servers:
            await asyncio.to_thread(server.wait_ready)
        await asyncio.to_thread(
            self.postgres.create_databases, [s for s in SERVICES if s != "declaration"]
        )
        await asyncio.to_thread(self.declaration_postgres.create_databases, [_DECLARATION_DB])
        replication = min(3, len(self.kafka.nodes))
        await create_platform_topics(self.kafka.bootstrap_servers, replication=replication)
        open_hours_ahead(self.offset_file)
        self.smtp.start()
        await self.smtp.wait_ready()
        for process in self.all_processes():
            process.start()
        await asyncio.gather(*(p.wait_ready() for p in self.all_processes()))

    async def ensure_running(self) -> None:
        """Start whatever a previous test left dead (a failed test must not take the next one
        down with it), and wait until everything is ready."""
        for node in self.kafka.nodes:
            if node.node_id not in self.kafka.processes:
                await self.restart_broker(node.node_id)
        for server in (self.postgres, self.declaration_postgres):
            if server.process is None or not server.process.is_running():
                server.launch()
                await asyncio.to_thread(server.wait_ready)
        if not self.smtp.running:
            self.smtp.start()
            await self.smtp.wait_ready()
        for process in self.all_processes():
            process.start()
        await asyncio.gather(*(p.wait_ready() for p in self.all_processes()))

    def kill_broker(self, node_id: int) -> None:
        self.kafka.stop_node(node_id, kill=True)

    async def restart_broker(self, node_id: int) -> None:
        self.kafka.start_node(node_id, wait=False)  # from this thread: it outlives the broker
        await asyncio.to_thread(self.kafka.wait_node, node_id)

    def crash_postgres(self, server: EmbeddedPostgres) -> None:
        """SIGQUIT to the postmaster: PostgreSQL's immediate shutdown, every backend gone at
        once and crash recovery at the next start (a SIGKILL would leave orphan backends
        holding its shared memory)."""
        if server.process is not None:
            server.process.stop_signal = signal.SIGQUIT
            server.process.stop()
            server.process = None

    async def restart_postgres(self, server: EmbeddedPostgres) -> None:
        server.launch()
        await asyncio.to_thread(server.wait_ready)

    def stop(self) -> None:
        """Everything this platform started, by pid, services first; logs kept in reports."""
        for process in reversed(self.all_processes()):
            process.stop()
        self.smtp.stop()
        self.kafka.stop(kill=True)  # throwaway data
        for server in (self.postgres, self.declaration_postgres):
            server.stop()
        kept = reports_dir() / "fault-logs" / self.root.name
        with contextlib.suppress(OSError):
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(self.logs, kept)
        shutil.rmtree(self.root, ignore_errors=True)

    def endpoints(self) -> Endpoints:
        url = {s: self.services[s][0].url for s in SERVICES}
        return Endpoints(
            identity=url["identity"], habilitation=url["habilitation"],
            declaration=url["declaration"], notification=url["notification"],
            smtp_http=f"http://127.0.0.1:{self.smtp.http_port}",
            kafka=self.kafka.bootstrap_servers,
            identity_database_url=self.database_url("identity"),
            clock_offset_file=self.offset_file,
        )  # fmt: skip

    @contextlib.asynccontextmanager
    async def clients(self) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
        async with contextlib.AsyncExitStack() as stack:
            yield {
                name: await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30.0))
                for name, url in self.endpoints().http().items()
            }

    @contextlib.asynccontextmanager
    async def database(self, service: str) -> AsyncIterator[asyncpg.Connection]:
        connection = await asyncpg.connect(self.database_url(service))
        try:
            yield connection
        finally:
            await connection.close()
