"""Access tokens (K9): short-lived JWTs signed by the identity service with an Ed25519 key
(EdDSA), validated offline by every service with the identity service's JWKS.

A token says who (account), for which organisation, in which role and in which server-side
session; it is only a bearer credential for at most ``ACCESS_TOKEN_LIFETIME``. Whether the
session, account, habilitation and organisation are still valid is each service's own view of
the identity and habilitation events, checked on every request: a logout, lapse, revocation
or suspension takes effect as soon as its event is consumed, not at token expiry.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ISSUER = "kairos-identity"
AUDIENCE = "kairos"
ALGORITHM = "EdDSA"
ACCESS_TOKEN_LIFETIME = timedelta(minutes=10)


class InvalidTokenError(Exception):
    """The token is missing, malformed, tampered with, expired or not for us."""


@dataclass(frozen=True)
class AccessClaims:
    account_id: str
    organisation_id: str | None
    role: str
    session_id: str
    password_change_only: bool
    issued_at: datetime
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    thumbprint_input = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": _b64(raw)}, separators=(",", ":"), sort_keys=True
    )
    kid = _b64(hashlib.sha256(thumbprint_input.encode()).digest())  # RFC 7638 thumbprint
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64(raw),
        "kid": kid,
        "use": "sig",
        "alg": ALGORITHM,
    }


class TokenSigner:
    """Issues access tokens (identity service only)."""

    def __init__(
        self, private_key: Ed25519PrivateKey, *, lifetime: timedelta = ACCESS_TOKEN_LIFETIME
    ) -> None:
        if lifetime > ACCESS_TOKEN_LIFETIME:
            raise ValueError(f"access tokens live at most {ACCESS_TOKEN_LIFETIME}")
        self._key = private_key
        self.lifetime = lifetime
        self.jwk = public_jwk(private_key.public_key())

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [self.jwk]}

    def issue(
        self,
        *,
        account_id: str,
        organisation_id: str | None,
        role: str,
        session_id: str,
        password_change_only: bool,
        now: datetime,
    ) -> str:
        payload = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": account_id,
            "org": organisation_id,
            "role": role,
            "sid": session_id,
            "pwd_change_only": password_change_only,
            "iat": int(now.timestamp()),
            "exp": int((now + self.lifetime).timestamp()),
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM, headers={"kid": self.jwk["kid"]})


class TokenVerifier:
    """Validates access tokens offline against a JWKS (every service)."""

    def __init__(self, jwks: dict[str, Any], *, leeway: timedelta = timedelta(seconds=5)) -> None:
        self._keys = {key["kid"]: jwt.PyJWK(key, algorithm=ALGORITHM) for key in jwks["keys"]}
        self._leeway = leeway

    def verify(self, token: str, *, now: datetime | None = None) -> AccessClaims:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise InvalidTokenError("token signed with an unknown key")
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],  # never "none", never what the token says
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=self._leeway,
                # Time is checked below against the injected clock, not the library's.
                options={
                    "require": ["exp", "iat", "sub", "sid", "aud", "iss"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as error:
            raise InvalidTokenError(str(error)) from None
        instant = (now or datetime.now(UTC)).timestamp()
        leeway = self._leeway.total_seconds()
        if payload["exp"] + leeway < instant:
            raise InvalidTokenError("token expired")
        if payload["iat"] - leeway > instant:
            raise InvalidTokenError("token issued in the future")
        not_before = payload.get("nbf", payload["iat"])
        if not isinstance(not_before, int | float) or not_before - leeway > instant:
            raise InvalidTokenError("token not valid yet")
        return AccessClaims(
            account_id=payload["sub"],
            organisation_id=payload.get("org"),
            role=payload["role"],
            session_id=payload["sid"],
            password_change_only=bool(payload.get("pwd_change_only", False)),
            issued_at=datetime.fromtimestamp(payload["iat"], UTC),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        )
