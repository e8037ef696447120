"""Settings of the declaration service: environment variables prefixed ``KAIROS_DECLARATION_``."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from kairos_shared.settings import ServiceSettings


class DeclarationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KAIROS_DECLARATION_", extra="ignore", frozen=True)

    service_name: str = "declaration"
    http_port: int = 8003
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/declaration")
    deadline_event_days: int = Field(default=3, ge=0, le=60)
    """Entries, interruptions and exits are due this many days after the event (K18)."""
    deadline_attendance_working_day: int = Field(default=5, ge=1, le=20)
    """Monthly attendance is due by this working day of the next month, in the OF's zone."""
    page_size_max: int = Field(default=100, ge=1, le=1000)
    """The most declarations a list returns per page (K22: no bulk extraction)."""
    reads_per_second: float = Field(default=2.0, gt=0)
    """Sustained reads of trainee data per account and replica (K22)."""
    reads_burst: int = Field(default=30, ge=1)
    """Reads an account may make at once before the sustained rate applies."""
    batch_rows_max: int = Field(default=5000, ge=1)
    """Rows a monthly attendance batch may carry."""
    setup_retry_after_seconds: int = Field(default=2, ge=1, le=60)
    """The ``Retry-After`` of the 503 answered to a caller whose own organisation was validated
    a moment ago and whose validation has not reached this service yet."""
