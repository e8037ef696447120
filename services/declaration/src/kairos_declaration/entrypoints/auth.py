"""Who is calling: the bearer access token, validated offline with the identity service's keys,
then checked against this service's own view of sessions and accounts (K9). The app keeps its
`DeclarationContext` in ``app.state.declaration``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kairos_declaration.service_layer.access import Actor, actor_of, unauthenticated
from kairos_declaration.service_layer.context import DeclarationContext
from kairos_shared.jwks import KeysUnavailableError
from kairos_shared.problems import Problem
from kairos_shared.tokens import InvalidTokenError

_bearer = HTTPBearer(auto_error=False)


def declaration_context(request: Request) -> DeclarationContext:
    context: DeclarationContext = request.app.state.declaration
    return context


Context = Annotated[DeclarationContext, Depends(declaration_context)]


async def current_actor(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """401 without a valid token, or when its session ended or its account lapsed; 503 while
    the identity service's keys cannot be had (the token may well be valid)."""
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
