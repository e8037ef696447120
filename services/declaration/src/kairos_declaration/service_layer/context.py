"""What the declaration service's handlers need, wired once in bootstrap.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import asyncpg

from kairos_declaration.domain.deadlines import DeadlinePolicy
from kairos_shared.access_hours import AccessCalendar
from kairos_shared.clock import Clock, SystemClock
from kairos_shared.problems import ORGANISATION_SETUP_RETRY_SECONDS
from kairos_shared.rate_limits import RateLimiter
from kairos_shared.tokens import AccessClaims

SOURCE = "/kairos/declaration"
"""The CloudEvents source of every declaration event."""


class PoolHolder(Protocol):
    """Gives the database pool once the app's lifespan opened it (`ServiceResources`)."""

    def require_pool(self) -> asyncpg.Pool: ...


class TokenCheck(Protocol):
    """Validates an access token offline (the identity service's JWKS, cached): raises
    `kairos_shared.tokens.InvalidTokenError` or `kairos_shared.jwks.KeysUnavailableError`."""

    async def verify(self, token: str, *, now: datetime) -> AccessClaims: ...


@dataclass(frozen=True)
class DeclarationContext:
    """The service's collaborators. Fields added later take defaults, so that every caller
    that builds one keeps working."""

    resources: PoolHolder
    clock: Clock
    calendar: AccessCalendar
    """Opening hours by zone (K4), from `AccessHoursSettings`."""
    tokens: TokenCheck
    deadlines: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    """When each kind is due (K18)."""
    reads: RateLimiter = field(
        default_factory=lambda: RateLimiter(rate_per_second=2.0, burst=30, clock=SystemClock())
    )
    """Reads of trainee data per account (K22)."""
    page_size_max: int = 100
    """The most declarations one page returns (K22)."""
    batch_rows_max: int = 5000
    """The most rows a monthly attendance batch carries."""
    setup_retry_after_seconds: int = ORGANISATION_SETUP_RETRY_SECONDS
    """The ``Retry-After`` of a 503 for an organisation whose validation is still on its way."""

    @property
    def pool(self) -> asyncpg.Pool:
        return self.resources.require_pool()
