"""How every Kafka client of the platform authenticates and encrypts: shared, un-prefixed settings.

``KAIROS_KAFKA_SECURITY_PROTOCOL`` is ``PLAINTEXT`` (the default: local stack and tests), ``SSL``
(TLS; with a client certificate, mutual TLS), ``SASL_PLAINTEXT`` (SCRAM, unencrypted: a trusted
network only) or ``SASL_SSL`` (SCRAM over TLS: production). The services read them through
:class:`kairos_shared.settings.ServiceSettings`, which extends this class; the ``kairos`` CLI
reads this class alone. :func:`kairos_shared.kafka.kafka_client_options` turns them into what
the clients take. docs/operators.md, "Kafka security", says which principal gets which ACLs.

A setting that the protocol would ignore is refused rather than ignored (a password set with
``PLAINTEXT`` means the protocol was forgotten), and so is a TLS file that does not exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KafkaSaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256"]

PROTOCOL_VARIABLE = "KAIROS_KAFKA_SECURITY_PROTOCOL"
SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})
TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})


def _variable(name: str) -> AliasChoices:
    return AliasChoices(name)


def _blank_is_unset(value: object) -> object:
    """An empty variable (``KAIROS_KAFKA_SASL_USERNAME=`` in a compose file) is an unset one."""
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, SecretStr) and not value.get_secret_value().strip():
        return None
    return value


class KafkaSecuritySettings(BaseSettings):
    """The Kafka clients' security settings; every one read from a ``KAIROS_KAFKA_…`` variable."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, validate_by_name=True)

    kafka_security_protocol: KafkaSecurityProtocol = Field(
        default="PLAINTEXT", validation_alias=_variable(PROTOCOL_VARIABLE)
    )
    kafka_sasl_mechanism: KafkaSaslMechanism = Field(
        default="SCRAM-SHA-512", validation_alias=_variable("KAIROS_KAFKA_SASL_MECHANISM")
    )
    """The SASL mechanism of the ``SASL_*`` protocols: the broker keeps SCRAM credentials
    (salted, never the password), the password never crosses the network."""
    kafka_sasl_username: str | None = Field(
        default=None,
        validate_default=True,
        validation_alias=_variable("KAIROS_KAFKA_SASL_USERNAME"),
    )
    """The SCRAM user, which is the Kafka principal ``User:<name>`` the ACLs name."""
    kafka_sasl_password: SecretStr | None = Field(
        default=None,
        validate_default=True,
        validation_alias=_variable("KAIROS_KAFKA_SASL_PASSWORD"),
    )
    kafka_ssl_ca_file: Path | None = Field(
        default=None, validation_alias=_variable("KAIROS_KAFKA_SSL_CA_FILE")
    )
    """PEM file of the CA(s) that signed the brokers' certificates; unset: the system's."""
    kafka_ssl_cert_file: Path | None = Field(
        default=None, validation_alias=_variable("KAIROS_KAFKA_SSL_CERT_FILE")
    )
    """Mutual TLS: the client certificate (PEM; it may hold the private key too)."""
    kafka_ssl_key_file: Path | None = Field(
        default=None, validation_alias=_variable("KAIROS_KAFKA_SSL_KEY_FILE")
    )
    """Mutual TLS: the client certificate's private key (PEM), if not in the certificate file."""
    kafka_ssl_key_password: SecretStr | None = Field(
        default=None, validation_alias=_variable("KAIROS_KAFKA_SSL_KEY_PASSWORD")
    )
    """Mutual TLS: the password of an encrypted private key."""

    @field_validator(
        "kafka_sasl_username",
        "kafka_sasl_password",
        "kafka_ssl_ca_file",
        "kafka_ssl_cert_file",
        "kafka_ssl_key_file",
        "kafka_ssl_key_password",
        mode="before",
    )
    @classmethod
    def _unset_when_blank(cls, value: object) -> object:
        return _blank_is_unset(value)

    @field_validator("kafka_sasl_username", "kafka_sasl_password")
    @classmethod
    def _sasl_credentials(cls, value: object, info: ValidationInfo) -> object:
        protocol = info.data.get("kafka_security_protocol")
        if protocol is None:  # the protocol itself is invalid: that error is enough
            return value
        if protocol in SASL_PROTOCOLS and value is None:
            raise ValueError(f"required with {PROTOCOL_VARIABLE}={protocol}")
        if protocol not in SASL_PROTOCOLS and value is not None:
            raise ValueError(
                f"set, but {PROTOCOL_VARIABLE}={protocol} does not authenticate with SASL "
                "(SASL_SSL does); unset it or change the protocol"
            )
        return value

    @field_validator("kafka_ssl_ca_file", "kafka_ssl_cert_file", "kafka_ssl_key_file")
    @classmethod
    def _tls_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        protocol = info.data.get("kafka_security_protocol")
        if value is None or protocol is None:
            return value
        if protocol not in TLS_PROTOCOLS:
            raise ValueError(
                f"set, but {PROTOCOL_VARIABLE}={protocol} does not use TLS (SSL and SASL_SSL "
                "do); unset it or change the protocol"
            )
        if not value.is_file():
            raise ValueError(f"{value} is not a readable file")
        return value

    @field_validator("kafka_ssl_key_file")
    @classmethod
    def _key_with_its_certificate(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is not None and info.data.get("kafka_ssl_cert_file") is None:
            raise ValueError("a private key without KAIROS_KAFKA_SSL_CERT_FILE, its certificate")
        return value
