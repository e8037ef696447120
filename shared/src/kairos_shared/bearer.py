"""The bearer access token of a request, checked offline (K9): what every service but identity
does before looking at its own view of sessions and accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kairos_shared.jwks import KeysUnavailableError
from kairos_shared.problems import Problem, unauthenticated
from kairos_shared.tokens import AccessClaims, InvalidTokenError

bearer_scheme = HTTPBearer(auto_error=False)
"""The FastAPI security scheme: `Depends(bearer_scheme)` gives the credentials or None."""


class TokenCheck(Protocol):
    """Validates an access token offline (the identity service's JWKS, cached): raises
    `InvalidTokenError` or `KeysUnavailableError`."""

    async def verify(self, token: str, *, now: datetime) -> AccessClaims: ...


async def verified_claims(
    tokens: TokenCheck, credentials: HTTPAuthorizationCredentials | None, now: datetime
) -> AccessClaims:
    """The token's claims: 401 without a valid token, 503 while the identity service's keys
    cannot be had (the token may well be valid: the caller retries)."""
    if credentials is None:
        raise unauthenticated("a bearer access token is required")
    try:
        return await tokens.verify(credentials.credentials, now=now)
    except InvalidTokenError as error:
        raise unauthenticated(f"invalid access token: {error}") from None
    except KeysUnavailableError:
        raise Problem(
            status=503, title="Keys unavailable", type="keys-unavailable",
            detail="the identity service's signing keys could not be obtained yet; retry",
        ) from None  # fmt: skip
