"""What the habilitation handlers need, wired once in bootstrap.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import asyncpg

from kairos_habilitation.domain.reviews import ReviewPolicy
from kairos_shared.access_hours import AccessCalendar
from kairos_shared.clock import Clock
from kairos_shared.problems import ORGANISATION_SETUP_RETRY_SECONDS
from kairos_shared.tokens import AccessClaims

SOURCE = "/kairos/habilitation"
"""The CloudEvents source of every habilitation event."""


class PoolHolder(Protocol):
    def require_pool(self) -> asyncpg.Pool: ...


class TokenCheck(Protocol):
    """Validates an access token offline (the identity service's JWKS, cached)."""

    async def verify(self, token: str, *, now: datetime) -> AccessClaims: ...


@dataclass(frozen=True)
class HabilitationContext:
    resources: PoolHolder
    clock: Clock
    calendar: AccessCalendar
    tokens: TokenCheck
    review_policy: ReviewPolicy = field(default_factory=ReviewPolicy)
    unused_after: timedelta = timedelta(days=90)
    """A habilitation whose holder has not logged in for this long is flagged (K15)."""
    demand_period: timedelta = timedelta(days=30)
    """How long an organisation has to answer an operator's demand (K10, K15)."""
    batch_size: int = 100
    """Rows a scheduler round claims at most per transaction."""
    setup_retry_after_seconds: int = ORGANISATION_SETUP_RETRY_SECONDS
    """The ``Retry-After`` of a 503 for an organisation whose validation is still on its way."""

    @property
    def pool(self) -> asyncpg.Pool:
        return self.resources.require_pool()
