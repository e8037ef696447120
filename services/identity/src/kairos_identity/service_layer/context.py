"""What the identity handlers need, wired once in bootstrap.py."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

import asyncpg

from kairos_identity.adapters.hashing_pool import HashingPool
from kairos_identity.domain.accounts import ProvisionalValidity
from kairos_identity.domain.organisations import (
    DEFAULT_EXPIRY_NOTICE_DAYS,
    DEFAULT_REQUEST_VALIDITY,
)
from kairos_identity.domain.passwords import DEFAULT_PASSWORD_POLICY, PasswordHasher, PasswordPolicy
from kairos_identity.domain.request_rate import RequestRate
from kairos_identity.domain.throttling import LoginThrottlePolicy
from kairos_shared.access_hours import AccessCalendar
from kairos_shared.clock import Clock
from kairos_shared.tokens import TokenSigner, TokenVerifier


def adhesion_throttle_policy(free: int, lock_after: int) -> LoginThrottlePolicy:
    """Adhesion requests from one client address (K1): `free` go through at once, then each
    waits from a minute, doubling up to an hour; from `lock_after` requests the address waits
    a day. A quiet day starts the count again."""
    return LoginThrottlePolicy(
        free_attempts=free, base_delay=timedelta(minutes=1), max_delay=timedelta(hours=1),
        lock_threshold=lock_after, lock_duration=timedelta(days=1),
        failure_memory=timedelta(days=1),
    )  # fmt: skip


SOURCE = "/kairos/identity"
"""The CloudEvents source of every identity event."""


class PoolHolder(Protocol):
    """Where the pool lives: the app's resources, or a command-line tool's own pool."""

    def require_pool(self) -> asyncpg.Pool: ...


@dataclass(frozen=True)
class IdentityContext:
    resources: PoolHolder
    clock: Clock
    hasher: PasswordHasher
    signer: TokenSigner
    calendar: AccessCalendar
    password_policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY
    throttle: LoginThrottlePolicy = field(default_factory=LoginThrottlePolicy)
    provisional_validity: ProvisionalValidity = field(default_factory=ProvisionalValidity)
    session_lifetime: timedelta = timedelta(hours=8)
    expiry_notice_days: tuple[int, ...] = DEFAULT_EXPIRY_NOTICE_DAYS
    adhesion_request_validity: timedelta = DEFAULT_REQUEST_VALIDITY
    """How long a request waits for an operator's decision before it expires (K1)."""
    adhesion_throttle: LoginThrottlePolicy = field(
        default_factory=lambda: adhesion_throttle_policy(10, 30)
    )
    """Adhesion requests per client address: the login throttle's rule, other limits."""
    rate_per_address: RequestRate = field(
        default_factory=lambda: RequestRate(burst=20, interval=timedelta(seconds=6))
    )
    """Logins, refreshes and password changes from one client address (K8)."""
    rate_global: RequestRate = field(
        default_factory=lambda: RequestRate.per_second(burst=200, rate=20)
    )
    """The same requests from everyone together (K8)."""
    hashing_workers: int = 2
    hashing_queue: int = 8
    """argon2 work in flight: at most `hashing_workers` at once, `hashing_queue` waiting; more
    is refused at once (503 with Retry-After)."""
    dummy_hash: str = ""
    """A hash of a random secret, verified when a login id is unknown, so that an unknown
    login costs the same time as a wrong password (no account enumeration by timing)."""

    @functools.cached_property
    def verifier(self) -> TokenVerifier:
        return TokenVerifier(self.signer.jwks())

    @property
    def pool(self) -> asyncpg.Pool:
        """The service's pool (open during the app's lifespan)."""
        return self.resources.require_pool()

    @functools.cached_property
    def hashing(self) -> HashingPool:
        """The bounded pool every password hash and check runs in, off the event loop."""
        return HashingPool(self.hasher, workers=self.hashing_workers, queue=self.hashing_queue)

    def __post_init__(self) -> None:
        if not self.dummy_hash:
            object.__setattr__(self, "dummy_hash", self.hasher.hash(secrets.token_urlsafe(16)))
