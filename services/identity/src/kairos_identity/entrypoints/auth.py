"""Who is calling: the bearer access token, checked against the identity service's own keys
and its live sessions (a logout deletes the session: its token stops working at once, K9)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kairos_identity.service_layer.context import IdentityContext
from kairos_identity.service_layer.session_access import check_open
from kairos_identity.service_layer.sessions import current_session
from kairos_shared.problems import Problem, unauthenticated
from kairos_shared.tokens import AccessClaims, InvalidTokenError

_bearer = HTTPBearer(auto_error=False)


def identity(request: Request) -> IdentityContext:
    context: IdentityContext = request.app.state.identity
    return context


Context = Annotated[IdentityContext, Depends(identity)]


async def any_session(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AccessClaims:
    """A valid token of a live session, even one that may only change its password."""
    if credentials is None:
        raise unauthenticated("a bearer access token is required")
    try:
        claims = context.verifier.verify(credentials.credentials, now=context.clock.now())
    except InvalidTokenError as error:
        raise unauthenticated(f"invalid access token: {error}") from None
    await current_session(context, claims)
    return claims


async def full_session(
    context: Context, claims: Annotated[AccessClaims, Depends(any_session)]
) -> AccessClaims:
    """A session past its password change (K6, K7); an OF role's only inside its organisation's
    opening hours (K4). Logging out and changing one's password take any session."""
    if claims.password_change_only:
        raise Problem(
            status=403, title="Password change required", type="password-change-required",
            detail="provisional credentials only allow POST /v1/accounts/me/password",
        )  # fmt: skip
    if claims.role != "operator" and claims.organisation_id is not None:
        await check_open(context, claims.organisation_id)
    return claims


async def operator(claims: Annotated[AccessClaims, Depends(full_session)]) -> AccessClaims:
    if claims.role != "operator":
        raise Problem(
            status=403, title="Operators only", type="forbidden",
            detail="this action is reserved to France Travail operators",
        )  # fmt: skip
    return claims


AnySession = Annotated[AccessClaims, Depends(any_session)]
FullSession = Annotated[AccessClaims, Depends(full_session)]
Operator = Annotated[AccessClaims, Depends(operator)]
