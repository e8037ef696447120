"""Settings every service has, read from the environment (pydantic-settings).

A service subclasses :class:`ServiceSettings` with its own ``env_prefix`` (``KAIROS_IDENTITY_`` …)
and defaults; Kafka and logging settings are shared by all services and carry no prefix.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What a service process needs to run: its database, Kafka, its HTTP port, logging."""

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
    readiness_timeout_seconds: float = Field(default=2.0, gt=0)
    kafka_connect_retry_max_seconds: float = Field(default=10.0, gt=0)
    outbox_relay_enabled: bool = True
    consumer_group_prefix: str | None = None
    """Kafka consumer groups are ``<prefix>-<consumer>``; default ``kairos-<service>``."""
