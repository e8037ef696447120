"""Ended sessions are remembered only as long as one of their tokens could still be presented."""

from __future__ import annotations

from kairos_habilitation.adapters import accounts
from kairos_habilitation.service_layer.context import HabilitationContext
from kairos_shared.tokens import ACCESS_TOKEN_LIFETIME

ENDED_SESSION_MEMORY = ACCESS_TOKEN_LIFETIME * 6
"""Well past the last expiry of a token issued before the session ended (with clock skew)."""


async def prune_ended_sessions(context: HabilitationContext) -> int:
    async with context.pool.acquire() as connection:
        return await accounts.prune_ended_sessions(
            connection, context.clock.now() - ENDED_SESSION_MEMORY
        )
