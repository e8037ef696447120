"""Settings of the portal: environment variables prefixed ``KAIROS_PORTAL_``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAIROS_PORTAL_", extra="ignore", frozen=True)

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/portal")
    """The portal's own database: web sessions (and the tokens they hold), nothing else."""
    db_pool_min_size: int = Field(default=1, ge=0)
    db_pool_max_size: int = Field(default=10, ge=1)
    identity_url: str = "http://127.0.0.1:8001"
    habilitation_url: str = "http://127.0.0.1:8002"
    declaration_url: str = "http://127.0.0.1:8003"
    notification_url: str = "http://127.0.0.1:8004"
    service_timeout_seconds: float = Field(default=30.0, gt=0)
    theme: Literal["neutral", "dsfr"] = "neutral"
    """``neutral`` (Pico CSS, brand-neutral: anyone may deploy it) or ``dsfr`` (the State design
    system: only for a State deployment on a .gouv.fr domain, as its terms of use require)."""
    development: bool = False
    """Cookies without ``Secure`` (plain http://127.0.0.1): the local stack only."""
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    """A web session unused this long ends: its tokens are deleted."""
    password_min_length: int = Field(default=15, ge=8)
    """Shown before a password is typed: the identity service's policy (its setting)."""
    static_dir: Path | None = None
    """Where the static files are served from; default: the package's ``static`` folder."""
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("KAIROS_LOG_LEVEL"))
    log_format: Literal["json", "console"] = Field(
        default="json", validation_alias=AliasChoices("KAIROS_LOG_FORMAT")
    )
    clock_offset_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("KAIROS_CLOCK_OFFSET_FILE")
    )
    """Development only: the clock the services share (``make demo`` moves it)."""

    @property
    def idle_timeout(self) -> timedelta:
        return timedelta(minutes=self.session_idle_minutes)

    def service_urls(self) -> dict[str, str]:
        return {
            "identity": self.identity_url,
            "habilitation": self.habilitation_url,
            "declaration": self.declaration_url,
            "notification": self.notification_url,
        }
