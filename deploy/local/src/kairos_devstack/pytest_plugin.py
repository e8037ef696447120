"""pytest fixtures giving tests a real Kafka and a real PostgreSQL.

Which ones is chosen, never guessed: ``KAIROS_TEST_INFRA`` (``make test INFRA=…``) says

- ``local`` (the default): local processes (:mod:`kairos_devstack.kafka`,
  :mod:`kairos_devstack.postgres`, the launchers of ``make run``) on free ports in a temporary
  folder, stopped at the end of the session, even when tests fail or are interrupted (and,
  should pytest itself be killed, by the parent-death signal they were started with);
- ``containers``: testcontainers (images pulled from a registry); an error when no Docker
  engine answers;
- ``env``: the addresses in ``KAIROS_TEST_KAFKA_BOOTSTRAP_SERVERS`` and
  ``KAIROS_TEST_POSTGRES_DSN`` (a superuser DSN: tests create databases), both required;
  implied when either is set and ``KAIROS_TEST_INFRA`` is not.

An unknown value, or a choice the environment contradicts, stops pytest before any test with a
message saying what to set; pytest's header says which infrastructure runs.

Tests get fresh names: ``kafka_topic`` creates a topic with a unique name, ``database_url`` a
new database that is dropped afterwards. Every test that uses them is marked ``infra``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import asyncpg
import pytest
import pytest_asyncio
from aiokafka.admin import AIOKafkaAdminClient

from kairos_devstack.kafka import KafkaCluster, kafka_version
from kairos_devstack.postgres import FAST_SETTINGS, EmbeddedPostgres
from kairos_devstack.processes import free_port
from kairos_devstack.topics import create_topics

INFRA_FIXTURES = frozenset(
    {
        "kafka_bootstrap_servers", "postgres_admin_dsn", "database_url", "new_database",
        "module_new_database", "kafka_topic",
    }
)  # fmt: skip

TopicFactory = Callable[..., Awaitable[str]]


INFRA_VARIABLE = "KAIROS_TEST_INFRA"
KAFKA_VARIABLE = "KAIROS_TEST_KAFKA_BOOTSTRAP_SERVERS"
POSTGRES_VARIABLE = "KAIROS_TEST_POSTGRES_DSN"
INFRA_KINDS = ("local", "containers", "env")


@dataclass(frozen=True)
class TestInfrastructure:
    """Where the tests' Kafka and PostgreSQL come from (one choice per session)."""

    __test__ = False  # not a test class, despite its name

    kind: Literal["local", "containers", "env"]
    kafka: str | None = None
    """With ``env``: Kafka's bootstrap servers."""
    postgres: str | None = None
    """With ``env``: a superuser DSN."""

    def describe(self) -> str:
        if self.kind == "env":
            return f"env (Kafka {self.kafka}, PostgreSQL {_without_password(self.postgres)})"
        if self.kind == "containers":
            return "containers (testcontainers: Kafka and PostgreSQL images, Docker)"
        return "local (Kafka and PostgreSQL processes started here, on free ports)"


def _without_password(dsn: str | None) -> str:
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", dsn or "")


def choose_infrastructure(
    environ: Mapping[str, str], docker_answers: Callable[[], bool]
) -> TestInfrastructure:
    """The infrastructure `environ` asks for (``KAIROS_TEST_INFRA``, else ``env`` when an
    address is given, else ``local``); a :class:`pytest.UsageError` saying what to set
    when the value is unknown, the addresses are missing or contradict it, or ``containers``
    has no Docker engine."""
    kafka = environ.get(KAFKA_VARIABLE, "").strip() or None
    postgres = environ.get(POSTGRES_VARIABLE, "").strip() or None
    requested = environ.get(INFRA_VARIABLE, "").strip()
    if not requested:
        requested = "env" if kafka or postgres else "local"
    if requested not in INFRA_KINDS:
        raise pytest.UsageError(
            f"{INFRA_VARIABLE}={requested!r} is not an infrastructure: choose local (Kafka and "
            "PostgreSQL started here, the default), containers (testcontainers, needs a Docker "
            f"engine) or env ({KAFKA_VARIABLE} and {POSTGRES_VARIABLE})"
        )
    given = [name for name, value in ((KAFKA_VARIABLE, kafka), (POSTGRES_VARIABLE, postgres))
             if value]  # fmt: skip
    if requested == "env":
        missing = [name for name in (KAFKA_VARIABLE, POSTGRES_VARIABLE) if name not in given]
        if missing:
            raise pytest.UsageError(
                f"{INFRA_VARIABLE}=env takes both addresses from the environment: set "
                f"{' and '.join(missing)} (or choose {INFRA_VARIABLE}=local)"
            )
        return TestInfrastructure("env", kafka, postgres)
    if given:
        raise pytest.UsageError(
            f"{INFRA_VARIABLE}={requested} but {' and '.join(given)} is set: unset it, or "
            f"choose {INFRA_VARIABLE}=env to test against those addresses"
        )
    if requested == "containers":
        if not docker_answers():
            raise pytest.UsageError(
                f"{INFRA_VARIABLE}=containers needs a Docker engine, and none answers "
                "`docker info`: start one, or choose local (the default)"
            )
        return TestInfrastructure("containers")
    return TestInfrastructure("local")


def _docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


_INFRASTRUCTURE = pytest.StashKey[TestInfrastructure]()


def pytest_configure(config: pytest.Config) -> None:
    """Choose once, before collection: a wrong choice stops the run at once (a usage error)."""
    config.stash[_INFRASTRUCTURE] = choose_infrastructure(os.environ, _docker_engine_answers)


def pytest_report_header(config: pytest.Config) -> str:
    return f"infrastructure ({INFRA_VARIABLE}): {config.stash[_INFRASTRUCTURE].describe()}"


@pytest.fixture(scope="session")
def test_infrastructure(pytestconfig: pytest.Config) -> TestInfrastructure:
    return pytestconfig.stash[_INFRASTRUCTURE]


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(
    tmp_path_factory: pytest.TempPathFactory, test_infrastructure: TestInfrastructure
) -> Iterator[str]:
    if test_infrastructure.kafka is not None:
        yield test_infrastructure.kafka
        return
    if test_infrastructure.kind == "containers":
        from testcontainers.kafka import KafkaContainer  # noqa: PLC0415 - only with Docker

        with KafkaContainer(f"apache/kafka:{kafka_version()}").with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    cluster = KafkaCluster.plan(tmp_path_factory.mktemp("kafka"), [(free_port(), free_port())])
    try:
        cluster.start()
        yield cluster.bootstrap_servers
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_admin_dsn(test_infrastructure: TestInfrastructure) -> Iterator[str]:
    if test_infrastructure.postgres is not None:
        yield test_infrastructure.postgres
        return
    if test_infrastructure.kind == "containers":
        from testcontainers.postgres import PostgresContainer  # noqa: PLC0415 - only with Docker

        with PostgresContainer("postgres:18", driver=None) as container:
            yield container.get_connection_url()
        return
    # Not under pytest's 0700 base temp: the server runs as its own user, which must reach it.
    folder = Path(tempfile.mkdtemp(prefix="kairos-test-postgres-"))
    folder.chmod(0o755)
    server = EmbeddedPostgres(folder / "server", free_port(), settings=FAST_SETTINGS)
    try:
        server.start()
        yield server.dsn()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _with_database(dsn: str, database: str) -> str:
    base, _, _ = dsn.rpartition("/")
    return f"{base}/{database}"


@contextlib.asynccontextmanager
async def _databases(postgres_admin_dsn: str) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """A factory of new, empty databases, all dropped when the block ends."""
    names: list[str] = []
    admin = await asyncpg.connect(postgres_admin_dsn)

    async def create() -> str:
        name = f"test_{uuid.uuid4().hex}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        return _with_database(postgres_admin_dsn, name)

    try:
        yield create
    finally:
        for name in names:
            with contextlib.suppress(asyncpg.PostgresError):
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest_asyncio.fixture(loop_scope="session")
async def new_database(postgres_admin_dsn: str) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """``await new_database()``: the URL of a new, empty database, dropped after the test (for
    tests that run several services, each owning its database)."""
    async with _databases(postgres_admin_dsn) as create:
        yield create


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def module_new_database(
    postgres_admin_dsn: str,
) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """``new_database`` for a platform that a test module's tests share: the databases are
    dropped after the module's last test."""
    async with _databases(postgres_admin_dsn) as create:
        yield create


@pytest_asyncio.fixture(loop_scope="session")
async def database_url(new_database: Callable[[], Awaitable[str]]) -> str:
    """A new, empty database for this test, dropped afterwards."""
    return await new_database()


@pytest_asyncio.fixture(loop_scope="session")
async def kafka_topic(kafka_bootstrap_servers: str) -> AsyncIterator[TopicFactory]:
    """``await kafka_topic(partitions=3)``: a topic with a unique name, deleted afterwards;
    ``dead_letters=True`` also creates its ``<name>.dlq``."""
    created: list[str] = []

    async def new_topic(
        prefix: str = "test", *, partitions: int = 3, dead_letters: bool = False
    ) -> str:
        name = f"{prefix}.{uuid.uuid4().hex}"
        names = [name, f"{name}.dlq"] if dead_letters else [name]
        await create_topics(kafka_bootstrap_servers, names, partitions=partitions)
        created.extend(names)
        return name

    yield new_topic
    if created:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers)
        await admin.start()
        try:
            await admin.delete_topics(created)
        finally:
            await admin.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the real Kafka or PostgreSQL as ``infra``."""
    for item in items:
        if INFRA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.infra)
