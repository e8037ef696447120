"""What the identity handlers need, wired once in bootstrap.py."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

import asyncpg

from kairos_identity.domain.accounts import ProvisionalValidity
from kairos_identity.domain.organisations import DEFAULT_EXPIRY_NOTICE_DAYS
from kairos_identity.domain.passwords import DEFAULT_PASSWORD_POLICY, PasswordHasher, PasswordPolicy
from kairos_identity.domain.throttling import LoginThrottlePolicy
from kairos_shared.access_hours import AccessCalendar
from kairos_shared.clock import Clock
from kairos_shared.tokens import TokenSigner, TokenVerifier

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

    def __post_init__(self) -> None:
        if not self.dummy_hash:
            object.__setattr__(self, "dummy_hash", self.hasher.hash(secrets.token_urlsafe(16)))
