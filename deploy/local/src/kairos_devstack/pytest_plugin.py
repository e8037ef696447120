"""pytest fixtures giving tests a real Kafka and a real PostgreSQL.

Each is chosen in this order, once per test session:

1. addresses in the environment — ``KAIROS_TEST_KAFKA_BOOTSTRAP_SERVERS`` and
   ``KAIROS_TEST_POSTGRES_DSN`` (a superuser DSN: tests create databases);
2. testcontainers, when a Docker engine answers;
3. local processes (:mod:`kairos_devstack.kafka`, :mod:`kairos_devstack.postgres`) on free
   ports in a temporary folder, stopped at the end of the session, even when tests fail or are
   interrupted (and, should pytest itself be killed, by the parent-death signal they were
   started with).

Tests get fresh names: ``kafka_topic`` creates a topic with a unique name, ``database_url`` a
new database that is dropped afterwards. Every test that uses them is marked ``infra``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

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


@pytest.fixture(scope="session")
def docker_available() -> bool:
    return os.environ.get("KAIROS_TEST_NO_DOCKER") != "1" and _docker_engine_answers()


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(
    tmp_path_factory: pytest.TempPathFactory, docker_available: bool
) -> Iterator[str]:
    given = os.environ.get("KAIROS_TEST_KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    if docker_available:
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
def postgres_admin_dsn(docker_available: bool) -> Iterator[str]:
    given = os.environ.get("KAIROS_TEST_POSTGRES_DSN")
    if given:
        yield given
        return
    if docker_available:
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
