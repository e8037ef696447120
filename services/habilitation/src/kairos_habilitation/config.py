"""Settings of the habilitation service: environment variables prefixed ``KAIROS_HABILITATION_``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from kairos_shared.settings import ServiceSettings


class HabilitationSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="KAIROS_HABILITATION_", extra="ignore", frozen=True
    )

    service_name: str = "habilitation"
    http_port: int = 8002
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/habilitation")
    deadlines_interval_seconds: float = Field(default=60.0, gt=0)
    """How often absences, review campaigns and demands are looked at (K13, K14, K15)."""
    review_period_days: int = Field(default=30, ge=1)
    """How long the RGC has to review the habilitations once a year (K14)."""
    review_reminder_days: tuple[int, ...] = (14, 3)
    """Reminders, in days before the review's deadline."""
    review_default: Literal["flag_to_operator", "suspend"] = "flag_to_operator"
    """What happens to habilitations left undecided at the review's deadline (K14)."""
    unused_after_days: int = Field(default=90, ge=1)
    """No login for this long flags a habilitation as unjustified by usage (K15)."""
    demand_period_days: int = Field(default=30, ge=1)
    """How long an organisation has to answer an operator's demand (K10, K15)."""
    setup_retry_after_seconds: int = Field(default=2, ge=1, le=60)
    """The ``Retry-After`` of the 503 answered to a caller whose own organisation was validated
    a moment ago and whose validation has not reached this service yet."""
