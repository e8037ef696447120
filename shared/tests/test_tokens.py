"""Access tokens: EdDSA-signed, short-lived, validated offline with the JWKS; tampered,
unsigned ("alg": "none"), foreign-key, expired and wrong-audience tokens are refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kairos_shared.tokens import InvalidTokenError, TokenSigner, TokenVerifier

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _issue(signer: TokenSigner, now: datetime = NOW) -> str:
    return signer.issue(
        account_id="acc-1",
        organisation_id="org-1",
        role="rgc",
        session_id="ses-1",
        password_change_only=False,
        now=now,
    )


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(Ed25519PrivateKey.generate())


def test_a_token_round_trips_through_the_jwks(signer: TokenSigner) -> None:
    claims = TokenVerifier(signer.jwks()).verify(_issue(signer), now=NOW)
    assert (claims.account_id, claims.organisation_id, claims.role) == ("acc-1", "org-1", "rgc")
    assert claims.session_id == "ses-1"
    assert claims.expires_at - claims.issued_at == timedelta(minutes=10)
    assert signer.jwks()["keys"][0]["kty"] == "OKP"
    assert "d" not in signer.jwks()["keys"][0], "the JWKS must not leak the private key"


def test_lifetimes_over_ten_minutes_are_refused() -> None:
    with pytest.raises(ValueError, match="at most"):
        TokenSigner(Ed25519PrivateKey.generate(), lifetime=timedelta(minutes=11))


def _forge(token: str, **changes: object) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    data.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_tampered_unsigned_foreign_expired_and_misaddressed_tokens_are_refused(
    signer: TokenSigner,
) -> None:
    verifier = TokenVerifier(signer.jwks())
    good = _issue(signer)
    unsigned = jwt.encode(
        {
            "sub": "acc-1",
            "sid": "s",
            "aud": "kairos",
            "iss": "kairos-identity",
            "iat": 1,
            "exp": 2**31,
        },
        key="",
        algorithm="none",
    )
    foreign = _issue(TokenSigner(Ed25519PrivateKey.generate()))
    key = Ed25519PrivateKey.generate()
    misaddressed = jwt.encode(
        {
            "sub": "a",
            "sid": "s",
            "aud": "habilitation",
            "iss": "kairos-identity",
            "iat": 1,
            "exp": 2**31,
        },
        key,
        algorithm="EdDSA",
        headers={"kid": signer.jwk["kid"]},
    )
    cases = {
        "tampered role": _forge(good, role="operator"),
        "alg none": unsigned,
        "foreign key": foreign,
        "other audience, wrong key": misaddressed,
        "garbage": "not.a.token",
    }
    for name, token in cases.items():
        with pytest.raises(InvalidTokenError):
            verifier.verify(token, now=NOW)
        assert name
    with pytest.raises(InvalidTokenError, match="expired"):
        verifier.verify(_issue(signer, now=NOW - timedelta(minutes=11)), now=NOW)
