"""Settings every service has, read from the environment (pydantic-settings).

A service subclasses :class:`ServiceSettings` with its own ``env_prefix`` (``KAIROS_IDENTITY_`` …)
and defaults; Kafka, logging and JWKS settings are shared by all services and carry no prefix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from kairos_shared.jwks import parse_jwks
from kairos_shared.kafka_settings import KafkaSecuritySettings
from kairos_shared.limits import DEFAULT_MAX_BODY_BYTES


class ServiceSettings(KafkaSecuritySettings):
    """What a service process needs to run: its database, Kafka (its security settings are
    :class:`KafkaSecuritySettings`), its HTTP port, logging."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, validate_by_name=True)

    service_name: str
    database_url: SecretStr
    http_host: str = "127.0.0.1"
    http_port: int = Field(ge=1, le=65535)
    db_pool_min_size: int = Field(default=1, ge=0)
    db_pool_max_size: int = Field(default=10, ge=1)
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAIROS_KAFKA_BOOTSTRAP_SERVERS"),
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("KAIROS_LOG_LEVEL"))
    log_format: Literal["json", "console"] = Field(
        default="json", validation_alias=AliasChoices("KAIROS_LOG_FORMAT")
    )
    otel_traces_exporter: Literal["none", "console", "otlp"] = Field(
        default="none", validation_alias=AliasChoices("KAIROS_OTEL_TRACES_EXPORTER")
    )
    """Where OpenTelemetry spans go: nowhere (``none``, no tracing cost), stdout (``console``)
    or an OTLP/HTTP collector (``otlp``)."""
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("KAIROS_OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    """The collector's OTLP/HTTP base URL (``http://collector:4318``; ``/v1/traces`` is added);
    unset: the exporter's default (``OTEL_EXPORTER_OTLP_…`` variables, else localhost:4318)."""
    readiness_timeout_seconds: float = Field(default=2.0, gt=0)
    http_max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1)
    """The largest request body the HTTP API reads; a larger one is refused with a 413
    (:mod:`kairos_shared.limits`). The default fits a 5000-row attendance batch."""
    kafka_connect_retry_max_seconds: float = Field(default=10.0, gt=0)
    outbox_relay_enabled: bool = True
    outbox_relay_stalled_after_seconds: float = Field(default=120.0, gt=0)
    """Readiness fails with ``relay stalled`` once every relay round has failed for this long
    (rows wait: Kafka unreachable, a refusal that is not a size or content one)."""
    consumer_group_prefix: str | None = None
    """Kafka consumer groups are ``<prefix>-<consumer>``; default ``kairos-<service>``."""
    consumer_offset_reset: Literal["earliest", "latest"] = "earliest"
    """Where a new consumer group starts: ``earliest`` (every retained event: the only right
    choice for a service) or ``latest`` (test harnesses sharing topics with other tests)."""
    identity_jwks_url: str = Field(
        default="http://127.0.0.1:8001/.well-known/jwks.json",
        validation_alias=AliasChoices("KAIROS_JWKS_URL"),
    )
    """Where the identity service publishes the keys that sign access tokens. The variable is
    ``KAIROS_JWKS_URL``, not ``KAIROS_IDENTITY_…``: that prefix is the identity service's own."""
    identity_jwks_json: str | None = Field(
        default=None, validation_alias=AliasChoices("KAIROS_JWKS_JSON")
    )
    """A JWKS (JSON) to use instead of fetching ``identity_jwks_url``: no HTTP at all. Public
    keys only; checked at start."""

    clock_offset_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("KAIROS_CLOCK_OFFSET_FILE")
    )
    """Development and demonstrations only: the services' clock runs this many seconds (read
    from the file) ahead of the system's (:class:`kairos_shared.clock.OffsetClock`). Unset in
    production."""

    @field_validator("identity_jwks_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("the JWKS URL must be an http:// or https:// URL")
        return value

    @field_validator("otel_exporter_otlp_endpoint")
    @classmethod
    def _otlp_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("the OTLP endpoint must be an http:// or https:// URL")
        return value

    @field_validator("identity_jwks_json")
    @classmethod
    def _key_set(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            parse_jwks(json.loads(value))
        except ValueError as error:
            raise ValueError(f"not a usable JWKS: {error}") from None
        return value
