"""Settings of the habilitation service: environment variables prefixed ``KAIROS_HABILITATION_``."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from kairos_shared.settings import ServiceSettings


class HabilitationSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="KAIROS_HABILITATION_", extra="ignore", frozen=True
    )

    service_name: str = "habilitation"
    http_port: int = 8002
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/habilitation")
