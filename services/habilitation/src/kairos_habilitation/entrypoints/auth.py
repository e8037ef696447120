"""Who is calling: the bearer access token, validated offline with the identity service's keys,
then checked against this service's own view of sessions and accounts (K9)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kairos_habilitation.service_layer.access import Actor, actor_of, unauthenticated
from kairos_habilitation.service_layer.context import HabilitationContext
from kairos_shared.jwks import KeysUnavailableError
from kairos_shared.problems import Problem
from kairos_shared.tokens import InvalidTokenError

_bearer = HTTPBearer(auto_error=False)


def habilitation_context(request: Request) -> HabilitationContext:
    context: HabilitationContext = request.app.state.habilitation
    return context


Context = Annotated[HabilitationContext, Depends(habilitation_context)]


async def current_actor(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None:
        raise unauthenticated("a bearer access token is required")
    try:
        claims = await context.tokens.verify(credentials.credentials, now=context.clock.now())
    except InvalidTokenError as error:
        raise unauthenticated(f"invalid access token: {error}") from None
    except KeysUnavailableError:
        raise Problem(
            status=503, title="Keys unavailable", type="keys-unavailable",
            detail="the identity service's signing keys could not be obtained yet; retry",
        ) from None  # fmt: skip
    async with context.pool.acquire() as connection:
        return await actor_of(connection, claims)


CurrentActor = Annotated[Actor, Depends(current_actor)]
