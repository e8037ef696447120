"""Kafka security for real: a KRaft broker with SCRAM-SHA-512 listeners (SASL_PLAINTEXT, and
SASL_SSL with a throw-away CA) and the StandardAuthorizer refusing what no ACL allows; the ACLs
are deploy/kafka/acls.toml, granted by Kafka's own AclCommand with exactly the commands
``python -m kairos_devstack.kafka_acls --print`` gives operators.

Every client is built by the platform's own code from ``KAIROS_KAFKA_…`` settings
(:func:`kairos_shared.kafka.kafka_client_options`, the FastStream broker of
:func:`kairos_shared.kafka.make_broker`, ``bootstrap_kafka``, the CLI's lag and dead letters).
Then: a service with its credentials publishes and consumes; a wrong password or an unknown
user is refused; the integrator reads the declaration topic with its own groups and can do
nothing else; TLS is verified against the configured CA.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from kairos_cli.dead_letters import read_dead_letters
from kairos_cli.lag import consumer_lag
from kairos_devstack import kafka_acls
from kairos_devstack.kafka import KafkaCluster, ScramCredential, sasl_scram_properties
from kairos_devstack.processes import free_port
from kairos_schemas import PLATFORM_TOPICS, dead_letter_topic
from kairos_shared.kafka import bootstrap_kafka, kafka_client_options, make_broker
from kairos_shared.kafka_settings import KafkaSecuritySettings

pytestmark = [pytest.mark.security, pytest.mark.slow, pytest.mark.infra]

IDENTITY, DECLARATION = "kairos.identity.v1", "kairos.declaration.v1"
ADMIN = ScramCredential("admin", "admin-secret-0")
INTEGRATOR = "acme"
USERS = {
    name: ScramCredential(name, f"{name}-secret-0")
    for name in (
        "kairos-identity",
        "kairos-habilitation",
        "kairos-declaration",
        "kairos-notification",
        "kairos-operator",
        f"integrator-{INTEGRATOR}",
    )
}
WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class SecureKafka:
    cluster: KafkaCluster
    sasl_bootstrap: str
    tls_bootstrap: str
    ca_file: Path

    def settings(self, user: str, *, password: str | None = None) -> KafkaSecuritySettings:
        """What a client named ``user`` is configured with (SASL_PLAINTEXT)."""
        return KafkaSecuritySettings(
            kafka_security_protocol="SASL_PLAINTEXT",
            kafka_sasl_username=user,
            kafka_sasl_password=password or USERS[user].password,
        )


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(folder: Path) -> tuple[Path, Path]:
    """A throw-away CA, and the broker's key and certificate (for 127.0.0.1) in one PEM file,
    as Kafka's PEM key store takes them."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-days", "1", "-subj", "/CN=kairos-test-ca", cwd=folder)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key",
             "-out", "broker.csr", "-subj", "/CN=127.0.0.1", cwd=folder)  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "broker.pem", "-days", "1", "-extfile", "san.ext",
             cwd=folder)  # fmt: skip
    keystore = folder / "broker-keystore.pem"
    keystore.write_text((folder / "broker.key").read_text() + (folder / "broker.pem").read_text())
    return folder / "ca.pem", keystore


def _admin_properties(path: Path, bootstrap_protocol: str = "SASL_PLAINTEXT") -> Path:
    """The admin's client properties, as docs/operators.md has operators write them."""
    path.write_text(
        f"security.protocol={bootstrap_protocol}\n"
        "sasl.mechanism=SCRAM-SHA-512\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{ADMIN.username}" password="{ADMIN.password}";\n'
    )
    return path


async def _create_topics(bootstrap: str, security: KafkaSecuritySettings) -> None:
    topics = [*PLATFORM_TOPICS, *(dead_letter_topic(topic) for topic in PLATFORM_TOPICS)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_client_options(security))
    await admin.start()
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            await admin.create_topics([NewTopic(topic, 1, 1) for topic in topics])
    finally:
        await admin.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def secure_kafka() -> AsyncIterator[SecureKafka]:
    folder = Path(tempfile.mkdtemp(prefix="kairos-test-kafka-sasl-"))
    sasl_port, tls_port, controller_port = free_port(), free_port(), free_port()
    ca_file, keystore = _certificates(folder)
    host = "127.0.0.1"
    properties = {
        # Two client listeners: SCRAM in clear (loopback), and SCRAM over TLS.
        "listeners": f"SASL_PLAINTEXT://{host}:{sasl_port},SASL_SSL://{host}:{tls_port},"
        f"CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"SASL_PLAINTEXT://{host}:{sasl_port},SASL_SSL://{host}:{tls_port}",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,"
        "SASL_SSL:SASL_SSL",
        # SCRAM on both; the broker's own connections (inter-broker) authenticate as the admin.
        **sasl_scram_properties("SASL_PLAINTEXT", ADMIN),
        **sasl_scram_properties("SASL_SSL", ADMIN),
        "listener.name.sasl_ssl.ssl.keystore.type": "PEM",
        "listener.name.sasl_ssl.ssl.keystore.location": str(keystore),
        # What no ACL allows is refused. The controller listener is PLAINTEXT on the loopback
        # interface: the broker registers with its controller as User:ANONYMOUS.
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{ADMIN.username};User:ANONYMOUS",
    }
    cluster = KafkaCluster.plan(
        folder,
        [(sasl_port, controller_port)],
        extra_properties=properties,
        heap="384m",
        listener_protocol="SASL_PLAINTEXT",
        scram_credentials=(ADMIN, *USERS.values()),
    )
    kafka = SecureKafka(cluster, f"{host}:{sasl_port}", f"{host}:{tls_port}", ca_file)
    try:
        await asyncio.to_thread(cluster.prepare)
        cluster.launch()  # from this (long-lived) thread: the node lives as long as it
        await asyncio.to_thread(cluster.wait_ready)
        admin = kafka.settings(ADMIN.username, password=ADMIN.password)
        await _create_topics(kafka.sasl_bootstrap, admin)
        chosen = kafka_acls.principals([INTEGRATOR])
        config = _admin_properties(folder / "admin.properties")
        await asyncio.to_thread(kafka_acls.apply, chosen, kafka.sasl_bootstrap, config)
        yield kafka
    finally:
        cluster.stop(kill=True)  # throwaway data
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def secure(secure_kafka: SecureKafka) -> SecureKafka:
    return secure_kafka


async def _produce(
    bootstrap: str,
    security: KafkaSecuritySettings,
    topic: str,
    value: bytes,
    *,
    idempotent: bool = True,
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=idempotent,
        acks="all",
        request_timeout_ms=10_000,
        **kafka_client_options(security),
    )
    try:  # stopped even when start() fails (a refused producer id, say)
        async with asyncio.timeout(WAIT_SECONDS):
            await producer.start()
            await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def _consumer(
    bootstrap: str, security: KafkaSecuritySettings, topic: str, group: str | None
) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **kafka_client_options(security),
    )
    try:  # stopped even when start() fails
        await consumer.start()
        yield consumer
    finally:
        await consumer.stop()


async def _read_until(consumer: AIOKafkaConsumer, value: bytes) -> list[Any]:
    seen: list[Any] = []
    async with asyncio.timeout(WAIT_SECONDS):
        while value not in [record.value for record in seen]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                seen.extend(records)
    return seen


# ---- the services ---------------------------------------------------------------------------


async def test_a_service_publishes_and_consumes_with_its_credentials(secure: SecureKafka) -> None:
    """identity publishes through its FastStream broker; declaration consumes it in its own
    group and parks a dead letter; both connect as their SCRAM user, with their ACLs only."""
    identity, declaration = (
        secure.settings("kairos-identity"),
        secure.settings("kairos-declaration"),
    )
    await bootstrap_kafka(secure.sasl_bootstrap, identity)
    value = f"identity event {uuid.uuid4()}".encode()
    broker = make_broker(secure.sasl_bootstrap, client_id="kairos-identity", security=identity)
    async with asyncio.timeout(WAIT_SECONDS):
        await broker.start()
        try:
            await broker.publish(value, IDENTITY, key=b"k")
        finally:
            await broker.stop()

    group = f"kairos-declaration-access-identity-{uuid.uuid4().hex[:6]}"
    async with _consumer(secure.sasl_bootstrap, declaration, IDENTITY, group) as consumer:
        await _read_until(consumer, value)
        await consumer.commit()
    await _produce(secure.sasl_bootstrap, declaration, dead_letter_topic(IDENTITY), value)
    await _produce(secure.sasl_bootstrap, declaration, DECLARATION, b"declaration event")


async def test_a_service_cannot_write_another_services_topic(secure: SecureKafka) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(
            secure.sasl_bootstrap, secure.settings("kairos-identity"), DECLARATION, b"forged"
        )


@pytest.mark.parametrize(
    ("user", "password"),
    [("kairos-identity", "not-the-password"), ("nobody", "whatever-0")],
    ids=["wrong password", "unknown user"],
)
async def test_a_client_without_valid_credentials_is_refused(
    secure: SecureKafka, user: str, password: str
) -> None:
    with pytest.raises(KafkaError):
        async with asyncio.timeout(WAIT_SECONDS):
            await bootstrap_kafka(secure.sasl_bootstrap, secure.settings(user, password=password))


async def test_a_client_without_sasl_is_refused(secure: SecureKafka) -> None:
    """A PLAINTEXT client speaks to a SASL listener: no metadata, nothing."""
    with pytest.raises((KafkaError, TimeoutError)):
        async with asyncio.timeout(10):
            await bootstrap_kafka(secure.sasl_bootstrap, KafkaSecuritySettings())


# ---- the integrator -------------------------------------------------------------------------


async def test_the_integrator_reads_the_declaration_topic(secure: SecureKafka) -> None:
    value = f"declaration event {uuid.uuid4()}".encode()
    await _produce(secure.sasl_bootstrap, secure.settings("kairos-declaration"), DECLARATION, value)
    integrator = secure.settings(f"integrator-{INTEGRATOR}")
    group = f"integrator-{INTEGRATOR}-reader"
    async with _consumer(secure.sasl_bootstrap, integrator, DECLARATION, group) as consumer:
        await _read_until(consumer, value)
        await consumer.commit()


async def test_the_integrator_cannot_publish_on_the_declaration_topic(secure: SecureKafka) -> None:
    integrator = secure.settings(f"integrator-{INTEGRATOR}")
    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(secure.sasl_bootstrap, integrator, DECLARATION, b"forged", idempotent=False)
    # An idempotent producer needs Write on some topic to get a producer id: none here.
    with pytest.raises(ClusterAuthorizationFailedError):
        await _produce(secure.sasl_bootstrap, integrator, DECLARATION, b"forged")


async def test_the_integrator_cannot_read_another_topic(secure: SecureKafka) -> None:
    integrator = secure.settings(f"integrator-{INTEGRATOR}")
    await _produce(secure.sasl_bootstrap, secure.settings("kairos-identity"), IDENTITY, b"x")
    await _produce(
        secure.sasl_bootstrap, secure.settings("kairos-notification"), f"{DECLARATION}.dlq", b"x"
    )
    for topic in (IDENTITY, dead_letter_topic(DECLARATION)):
        consumer = AIOKafkaConsumer(
            bootstrap_servers=secure.sasl_bootstrap,
            group_id=f"integrator-{INTEGRATOR}-sneaky",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **kafka_client_options(integrator),
        )
        try:
            await consumer.start()
            # Kafka does not even say the topic exists (its metadata is refused) …
            assert topic not in await consumer.topics()
            partition = TopicPartition(topic, 0)
            consumer.assign([partition])
            # … hands out none of its records …
            assert not await consumer.getmany(timeout_ms=2000)
            # … and refuses to keep a position in it, even in the integrator's own group.
            with pytest.raises(TopicAuthorizationFailedError):
                async with asyncio.timeout(WAIT_SECONDS):
                    await consumer.commit({partition: 0})
        finally:
            await consumer.stop()


@pytest.mark.parametrize("group", ["kairos-declaration-access-identity", "integrator-other-x"])
async def test_the_integrator_cannot_use_another_group(secure: SecureKafka, group: str) -> None:
    integrator = secure.settings(f"integrator-{INTEGRATOR}")
    with pytest.raises(GroupAuthorizationFailedError):
        async with (
            asyncio.timeout(WAIT_SECONDS),
            _consumer(secure.sasl_bootstrap, integrator, DECLARATION, group) as consumer,
        ):
            await consumer.getmany(timeout_ms=5000)


# ---- the operators' commands ----------------------------------------------------------------


async def test_the_operator_commands_work_with_the_operator_principal(
    secure: SecureKafka, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`kairos lag` and `kairos dead-letters list` as User:kairos-operator (Describe on the
    platform's topics and groups, Read on the dead letters)."""
    for variable in (
        "KAIROS_IDENTITY_CONSUMER_GROUP_PREFIX",
        "KAIROS_HABILITATION_CONSUMER_GROUP_PREFIX",
    ):
        monkeypatch.delenv(variable, raising=False)
    await _produce(secure.sasl_bootstrap, secure.settings("kairos-identity"), IDENTITY, b"lag")
    habilitation = secure.settings("kairos-habilitation")
    group = "kairos-habilitation-identity-view"
    async with _consumer(secure.sasl_bootstrap, habilitation, IDENTITY, group) as consumer:
        await _read_until(consumer, b"lag")
        await consumer.commit()
    operator = secure.settings("kairos-operator")
    lags = await consumer_lag(secure.sasl_bootstrap, ["habilitation"], operator)
    assert {(lag.group, lag.topic) for lag in lags} == {(group, IDENTITY)}

    await _produce(
        secure.sasl_bootstrap, habilitation, dead_letter_topic(IDENTITY), b"a dead letter"
    )
    letters = await read_dead_letters(
        secure.sasl_bootstrap, dead_letter_topic(IDENTITY), security=operator
    )
    assert letters, "the operator reads no dead letter"


# ---- TLS ------------------------------------------------------------------------------------


async def test_tls_is_verified_against_the_configured_ca(secure: SecureKafka) -> None:
    identity = USERS["kairos-identity"]
    trusted = KafkaSecuritySettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username=identity.username,
        kafka_sasl_password=identity.password,
        kafka_ssl_ca_file=secure.ca_file,
    )
    await bootstrap_kafka(secure.tls_bootstrap, trusted)
    await _produce(secure.tls_bootstrap, trusted, IDENTITY, b"over TLS")

    system_cas = trusted.model_copy(update={"kafka_ssl_ca_file": None})
    with pytest.raises(KafkaConnectionError):
        async with asyncio.timeout(WAIT_SECONDS):
            await bootstrap_kafka(secure.tls_bootstrap, system_cas)
