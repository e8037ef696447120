"""Who is calling: the bearer access token, validated offline with the identity service's keys,
then checked against this service's own view of sessions and accounts (K9)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from kairos_habilitation.service_layer.access import Actor, actor_of
from kairos_habilitation.service_layer.context import HabilitationContext
from kairos_shared.bearer import bearer_scheme, verified_claims


def habilitation_context(request: Request) -> HabilitationContext:
    context: HabilitationContext = request.app.state.habilitation
    return context


Context = Annotated[HabilitationContext, Depends(habilitation_context)]


async def current_actor(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Actor:
    """401 without a valid token, or when its session ended or its account lapsed; 503 while
    the identity service's keys cannot be had."""
    claims = await verified_claims(context.tokens, credentials, context.clock.now())
    async with context.pool.acquire() as connection:
        return await actor_of(connection, claims)


CurrentActor = Annotated[Actor, Depends(current_actor)]
