"""Settings of the notification service: environment variables prefixed ``KAIROS_NOTIFICATION_``."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from kairos_shared.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="KAIROS_NOTIFICATION_", extra="ignore", frozen=True
    )

    service_name: str = "notification"
    http_port: int = 8004
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/notification")
