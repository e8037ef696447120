"""Who is calling: the bearer access token, validated offline with the identity service's keys,
then checked against this service's own view of sessions and accounts (K9). The app keeps its
`DeclarationContext` in ``app.state.declaration``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from kairos_declaration.service_layer.access import Actor, actor_of
from kairos_declaration.service_layer.context import DeclarationContext
from kairos_shared.bearer import bearer_scheme, verified_claims


def declaration_context(request: Request) -> DeclarationContext:
    context: DeclarationContext = request.app.state.declaration
    return context


Context = Annotated[DeclarationContext, Depends(declaration_context)]


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
