"""Settings of the declaration service: environment variables prefixed ``KAIROS_DECLARATION_``."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from kairos_shared.settings import ServiceSettings


class DeclarationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KAIROS_DECLARATION_", extra="ignore", frozen=True)

    service_name: str = "declaration"
    http_port: int = 8003
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/declaration")
