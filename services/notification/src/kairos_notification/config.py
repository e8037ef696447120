"""Settings of the notification service: environment variables prefixed ``KAIROS_NOTIFICATION_``."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from kairos_notification.adapters.smtp import SmtpSettings
from kairos_notification.domain.delivery import RetryPolicy
from kairos_shared.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="KAIROS_NOTIFICATION_", extra="ignore", frozen=True
    )

    service_name: str = "notification"
    http_port: int = 8004
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/notification")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_use_tls: bool = False
    """Implicit TLS from the first byte (port 465)."""
    smtp_start_tls: bool | None = None
    """STARTTLS: None uses it when the server offers it, True requires it, False never."""
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender_address: str = "ne-pas-repondre@kairos.example"
    smtp_sender_name: str = "Kairos"
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    delivery_interval_seconds: float = Field(default=5.0, gt=0)
    """How often queued e-mails are looked at (retries wait their back-off)."""
    delivery_concurrency: int = Field(default=4, ge=1, le=32)
    """E-mails sent at once by each replica, each on its own SMTP connection and holding one
    database connection while it is sent (keep it under ``db_pool_max_size``)."""
    delivery_max_attempts: int = Field(default=8, ge=1)
    delivery_first_retry_seconds: float = Field(default=30.0, gt=0)
    delivery_max_retry_seconds: float = Field(default=3600.0, gt=0)
    reminders_interval_seconds: float = Field(default=3600.0, gt=0)
    """How often the attendance deadline reminders are looked at."""
    attendance_due_working_day: int = Field(default=5, ge=1, le=20)
    """Monthly statements are due by this working day (the declaration service's setting)."""
    attendance_reminder_days_before: int = Field(default=2, ge=0, le=20)
    """How many days before that deadline the RGC is reminded of missing statements."""
    operators_mailbox: str = "exploitation-kairos@francetravail.example"
    """The operators' functional mailbox, where RGCs' incident reports go (CGU §4.1.3)."""
    platform_url: str | None = None
    """The platform's address, shown at the foot of every e-mail when set."""
    setup_retry_after_seconds: int = Field(default=2, ge=1, le=60)
    """The ``Retry-After`` of the 503 answered to a caller whose own organisation was validated
    a moment ago and whose validation has not reached this service yet."""

    def smtp(self) -> SmtpSettings:
        return SmtpSettings(
            host=self.smtp_host, port=self.smtp_port, use_tls=self.smtp_use_tls,
            start_tls=self.smtp_start_tls, username=self.smtp_username,
            password=self.smtp_password, sender_address=self.smtp_sender_address,
            sender_name=self.smtp_sender_name, timeout=self.smtp_timeout_seconds,
        )  # fmt: skip

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.delivery_max_attempts,
            first_delay=timedelta(seconds=self.delivery_first_retry_seconds),
            max_delay=timedelta(seconds=self.delivery_max_retry_seconds),
        )
