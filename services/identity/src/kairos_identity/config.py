"""Settings of the identity service: environment variables prefixed ``KAIROS_IDENTITY_``."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from kairos_shared.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KAIROS_IDENTITY_", extra="ignore", frozen=True)

    service_name: str = "identity"
    http_port: int = 8001
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/identity")
    signing_key_pem: SecretStr | None = None
    """The Ed25519 private key (PKCS#8 PEM) that signs access tokens. Every replica needs the
    same key; when unset, a key is generated at start (development only: tokens then die with
    the process, and replicas would not accept each other's)."""
    expiry_notice_days: tuple[int, ...] = (90, 30, 7)
    """Notices before an organisation's 3-year access period ends (K2)."""
    deadlines_interval_seconds: float = 60.0
    """How often provisional-credential and adhesion deadlines are looked at (K2, K6)."""
    adhesion_request_validity_days: int = Field(default=30, ge=1, le=365)
    """A request left without an operator's decision this long expires; its SIRET may apply
    again (K1)."""
    adhesion_requests_free: int = Field(default=10, ge=1)
    """Adhesion requests from one client address that go through at once; then each waits
    (from a minute, doubling up to an hour)."""
    adhesion_requests_lock_after: int = Field(default=30, ge=2)
    """Requests from one address after which it waits a day (more than the free ones)."""
    login_free_attempts: int = 3
    """Failed logins allowed before each next attempt must wait (K8)."""
    login_max_delay_seconds: float = 30.0
    login_lock_threshold: int = 10
    """Consecutive failures that lock the account for ``login_lock_minutes`` (K8)."""
    login_lock_minutes: float = 15.0
    """Always expires: never a permanent lock an attacker could trigger."""
    login_rate_per_address_burst: int = Field(default=20, ge=1)
    """Logins, token refreshes and password changes one client address may send at once (K8);
    then its bucket refills at ``login_rate_per_address_per_minute``."""
    login_rate_per_address_per_minute: float = Field(default=10.0, gt=0)
    login_rate_global_burst: int = Field(default=200, ge=1)
    """The same requests from everyone together, at once (K8); then
    ``login_rate_global_per_second``."""
    login_rate_global_per_second: float = Field(default=20.0, gt=0)
    password_hashing_workers: int = Field(default=2, ge=1)
    """Threads that hash and check passwords (argon2 releases the GIL), off the event loop."""
    password_hashing_queue: int = Field(default=8, ge=0)
    """Password checks that may wait for a worker; beyond, 503 with Retry-After."""
    argon2_memory_kib: int = 19 * 1024
    argon2_time_cost: int = 2
