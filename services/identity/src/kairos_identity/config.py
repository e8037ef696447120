"""Settings of the identity service: environment variables prefixed ``KAIROS_IDENTITY_``."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from kairos_shared.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KAIROS_IDENTITY_", extra="ignore", frozen=True)

    service_name: str = "identity"
    http_port: int = 8001
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/identity")
