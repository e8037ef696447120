"""The FastStream Kafka broker of a service, and how every Kafka client connects.

The producer is idempotent (``enable_idempotence`` forces ``acks=all``) so a retried send never
writes twice. Subscribers must not use FastStream's default ``ACK_FIRST`` for business events:
the consumer helpers (Foundation II) acknowledge only after the database transaction commits.

:func:`kafka_client_options` is the one place the security settings
(:class:`~kairos_shared.kafka_settings.KafkaSecuritySettings`) become connection arguments: every
aiokafka client of the platform (producers, consumers, admin clients, the bare client that
checks Kafka answers) is created with them, and :func:`broker_security` hands the same to
FastStream.
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka.client import AIOKafkaClient
from aiokafka.helpers import create_ssl_context
from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from kairos_shared.kafka_settings import SASL_PROTOCOLS, TLS_PROTOCOLS, KafkaSecuritySettings


def kafka_client_options(security: KafkaSecuritySettings | None) -> dict[str, Any]:
    """The keyword arguments that make an aiokafka client (``AIOKafkaProducer``,
    ``AIOKafkaConsumer``, ``AIOKafkaAdminClient``, ``AIOKafkaClient``) connect as configured:
    none for ``PLAINTEXT`` (or ``None``), else ``security_protocol`` and, as the protocol needs,
    an ``ssl_context`` (hostname checked; the configured CA, else the system's; the client
    certificate for mutual TLS) and the SASL mechanism and credentials."""
    if security is None or security.kafka_security_protocol == "PLAINTEXT":
        return {}
    protocol = security.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol in TLS_PROTOCOLS:
        key_password = security.kafka_ssl_key_password
        options["ssl_context"] = create_ssl_context(
            cafile=security.kafka_ssl_ca_file,
            certfile=security.kafka_ssl_cert_file,
            keyfile=security.kafka_ssl_key_file,
            password=None if key_password is None else key_password.get_secret_value(),
        )
    if protocol in SASL_PROTOCOLS:
        # The settings refuse a SASL protocol without both (KafkaSecuritySettings).
        assert security.kafka_sasl_username is not None
        assert security.kafka_sasl_password is not None
        options["sasl_mechanism"] = security.kafka_sasl_mechanism
        options["sasl_plain_username"] = security.kafka_sasl_username
        options["sasl_plain_password"] = security.kafka_sasl_password.get_secret_value()
    return options


def broker_security(security: KafkaSecuritySettings | None) -> BaseSecurity | None:
    """:func:`kafka_client_options` as FastStream's ``KafkaBroker(security=…)`` takes them
    (FastStream turns it back into the same aiokafka arguments)."""
    options = kafka_client_options(security)
    if not options:
        return None
    use_ssl = options["security_protocol"] in TLS_PROTOCOLS
    ssl_context = options.get("ssl_context")
    if "sasl_mechanism" not in options:
        return BaseSecurity(ssl_context=ssl_context, use_ssl=use_ssl)
    scram = SASLScram512 if options["sasl_mechanism"] == "SCRAM-SHA-512" else SASLScram256
    return scram(
        options["sasl_plain_username"],
        options["sasl_plain_password"],
        ssl_context=ssl_context,
        use_ssl=use_ssl,
    )


def make_broker(
    bootstrap_servers: str, *, client_id: str, security: KafkaSecuritySettings | None = None
) -> KafkaBroker:
    """The service's broker; ``security`` is the service's settings (``None``: PLAINTEXT)."""
    return KafkaBroker(
        bootstrap_servers.split(","),
        client_id=client_id,
        enable_idempotence=True,
        logger=logging.getLogger(f"kairos.{client_id}.kafka"),
        security=broker_security(security),
    )


async def bootstrap_kafka(
    bootstrap_servers: str, security: KafkaSecuritySettings | None = None
) -> None:
    """Raise unless a Kafka broker answers a metadata request (authenticated as configured);
    leaves no connection open."""
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap_servers.split(","), **kafka_client_options(security)
    )
    try:
        await client.bootstrap()
    finally:
        await client.close()
