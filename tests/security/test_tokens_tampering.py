"""Forged and tampered access tokens (K9): every service refuses each with a 401 problem on its
protected endpoints, reads and writes alike, and nothing changes.

The forgeries: ``alg: none``; a different Ed25519 key under the real ``kid``; HS256 keyed with
the public key (key confusion: the JWK ``x``, its raw bytes, its PEM); an attacker's key
embedded in the header (``jwk``) or named by URL (``jku``); real signatures over claims that
are expired, not yet valid, for another audience or issuer, or missing a required claim; a real
token whose payload was edited (role, organisation, expiry) under its original signature; a
real token's signature on another token; and garbage.

Not in the list: a real signature over an unknown session id. The services other than identity
keep a deny-list of ended sessions (a token may arrive before its SessionStarted event does), so
they accept it; minting one takes the identity service's private key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kairos_devstack.platform import Organisation, Platform, bearer, running_platform
from kairos_shared.tokens import public_jwk

pytestmark = [pytest.mark.security, pytest.mark.slow]

SESSION = {"action_number": "84_AF_0000054321", "session_number": "84_SE_0000098765"}


@pytest_asyncio.fixture(loop_scope="session")
async def platform(
    new_database: Callable[[], Awaitable[str]], kafka_bootstrap_servers: str
) -> AsyncIterator[Platform]:
    async with running_platform(
        new_database, kafka_bootstrap_servers, with_declaration=True, with_notification=True
    ) as platform:
        yield platform


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json_b64(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_json_b64(header)}.{_json_b64(claims)}"


def _hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    signing_input = _unsigned({**header, "alg": "HS256"}, claims)
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def forgeries(platform: Platform, token: str, other_token: str) -> dict[str, str]:
    """name -> a token that must be refused, built from a real one (`token`)."""
    signer = platform.identity.state.identity.signer
    real_key: Ed25519PrivateKey = signer._key  # the identity's key: real signatures, bad claims
    kid = signer.jwk["kid"]
    public = real_key.public_key()
    raw_public = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    pem_public = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    claims = _claims_of(token)
    header = {"alg": "EdDSA", "typ": "JWT", "kid": kid}
    now = int(platform.clock.now().timestamp())
    attacker = Ed25519PrivateKey.generate()
    attacker_jwk = public_jwk(attacker.public_key())

    def signed(changes: dict[str, Any], *, key: Ed25519PrivateKey = real_key, **head: Any) -> str:
        payload = {k: v for k, v in {**claims, **changes}.items() if v is not None}
        return jwt.encode(payload, key, algorithm="EdDSA", headers={"kid": kid, **head})

    head, body, signature = token.split(".")
    other_head, other_body, _ = other_token.split(".")

    def edited(changes: dict[str, Any]) -> str:
        return f"{head}.{_json_b64({**claims, **changes})}.{signature}"

    edits: dict[str, dict[str, Any]] = {
        "payload edited: role operator": {"role": "operator", "org": None},
        "payload edited: role rgc": {"role": "rgc"},
        "payload edited: another organisation": {"org": str(uuid.uuid4())},
        "payload edited: another account": {"sub": str(uuid.uuid4())},
        "payload edited: expiry pushed back": {"exp": now + 86_400},
        "payload edited: audience": {"aud": "kairos "},
    }
    return {
        **{  # an edit that changes nothing re-encodes the same bytes: not a forgery
            name: edited(changes)
            for name, changes in edits.items()
            if any(claims.get(claim) != value for claim, value in changes.items())
        },
        "alg none": _unsigned({**header, "alg": "none"}, claims) + ".",
        "alg none, with the real signature": _unsigned({**header, "alg": "none"}, claims)
        + f".{signature}",
        "alg None spelt differently": _unsigned({**header, "alg": "NONE"}, claims) + ".",
        "another Ed25519 key, same kid": signed({}, key=attacker),
        "HS256 keyed with the JWK x": _hs256(header, claims, signer.jwk["x"].encode()),
        "HS256 keyed with the raw public key": _hs256(header, claims, raw_public),
        "HS256 keyed with the PEM public key": _hs256(header, claims, pem_public),
        "attacker key embedded in the header": jwt.encode(
            claims,
            attacker,
            algorithm="EdDSA",
            headers={"kid": attacker_jwk["kid"], "jwk": attacker_jwk},
        ),
        "attacker key embedded under the real kid": jwt.encode(
            claims, attacker, algorithm="EdDSA", headers={"kid": kid, "jwk": attacker_jwk}
        ),
        "attacker key by URL (jku)": jwt.encode(
            claims,
            attacker,
            algorithm="EdDSA",
            headers={"kid": kid, "jku": "http://attacker.example/jwks.json"},
        ),
        "no kid": jwt.encode(claims, real_key, algorithm="EdDSA"),
        "expired (real signature)": signed({"iat": now - 1200, "exp": now - 600}),
        "not yet valid (real signature)": signed({"iat": now + 3600, "exp": now + 4200}),
        "nbf in the future (real signature)": signed({"nbf": now + 3600}),
        "another audience (real signature)": signed({"aud": "another-platform"}),
        "no audience (real signature)": signed({"aud": None}),
        "another issuer (real signature)": signed({"iss": "https://attacker.example"}),
        "no issuer (real signature)": signed({"iss": None}),
        "no session (real signature)": signed({"sid": None}),
        "no subject (real signature)": signed({"sub": None}),
        "no expiry (real signature)": signed({"exp": None}),
        "another token's payload under this signature": f"{other_head}.{other_body}.{signature}",
        "signature truncated": f"{head}.{body}.{signature[:-4]}",
        "signature of zeros": f"{head}.{body}.{_b64(bytes(64))}",
        "two segments": f"{head}.{body}",
        "four segments": f"{token}.{signature}",
        "garbage": "garbage",
        "dots only": "..",
        "empty segments": "a..b",
        "not base64": "!!!.***.$$$",
        "JSON header that is a list": f"{_b64(b'[]')}.{body}.{signature}",
        "huge": "a" * 20_000,
    }


@dataclass(frozen=True)
class Endpoint:
    service: str
    method: str
    path: str
    body: dict[str, Any] | None = None


def _endpoints(organisation: Organisation) -> list[Endpoint]:
    org = organisation.id
    habilitation = {
        "role": "user",
        "person": {"first_name": "Eve", "last_name": "Forger", "email": "eve@of.example"},
        "function": "formatrice",
        "authorisation": {"signed_by": "Inès Roux", "signed_on": "2026-03-01",
                          "document_sha256": hashlib.sha256(b"forged").hexdigest()},
        "employee_attested": True,
    }  # fmt: skip
    session = {**SESSION, "starts_on": "2026-02-02", "ends_on": "2026-06-30", "weekly_hours": 35}
    return [
        Endpoint("identity", "GET", f"/v1/organisations/{org}"),
        Endpoint("identity", "POST", f"/v1/organisations/{org}/suspension", {"reason": "forged"}),
        Endpoint(
            "identity", "GET", f"/v1/accounts/{organisation.rgc_account_id}/provisional-credentials"
        ),
        Endpoint(
            "identity",
            "POST",
            "/v1/accounts/me/password",
            {"current_password": "x" * 12, "new_password": "une phrase forgée 2026"},
        ),
        Endpoint("identity", "DELETE", "/v1/sessions/current"),
        Endpoint("habilitation", "GET", f"/v1/organisations/{org}/rgc"),
        Endpoint("habilitation", "GET", f"/v1/organisations/{org}/habilitations"),
        Endpoint("habilitation", "POST", f"/v1/organisations/{org}/habilitations", habilitation),
        Endpoint("declaration", "GET", f"/v1/organisations/{org}/declarations"),
        Endpoint("declaration", "POST", f"/v1/organisations/{org}/sessions", session),
        Endpoint("notification", "GET", f"/v1/organisations/{org}/notifications"),
        Endpoint(
            "notification",
            "POST",
            f"/v1/organisations/{org}/incident-reports",
            {"summary": "forged", "description": "forged"},
        ),
    ]


def _client(platform: Platform, service: str) -> httpx.AsyncClient:
    client = {
        "identity": platform.identity_http,
        "habilitation": platform.http,
        "declaration": platform.declaration_http,
        "notification": platform.notification_http,
    }[service]
    assert client is not None
    return client


async def _state(platform: Platform, organisation: Organisation) -> dict[str, Any]:
    """What the forged requests could have changed, as the operator reads it."""
    operator = bearer(platform.operator_token)
    org = organisation.id
    reads = {
        "organisation": (platform.identity_http, f"/v1/organisations/{org}"),
        "rgc": (platform.http, f"/v1/organisations/{org}/rgc"),
        "habilitations": (platform.http, f"/v1/organisations/{org}/habilitations"),
        "sessions": (platform.declaration_http, f"/v1/organisations/{org}/sessions"),
    }
    state: dict[str, Any] = {}
    for name, (client, path) in reads.items():
        assert client is not None
        response = await client.get(path, headers=operator)
        assert response.status_code == 200, (name, response.text)
        state[name] = response.json()
    return state


async def test_every_forged_token_is_refused_with_401_by_every_service_and_changes_nothing(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=9201)
    _, holder_token = await platform.active_holder(organisation, "holder@of.example")
    before = await _state(platform, organisation)
    tokens = {
        **forgeries(platform, platform.operator_token, organisation.rgc_token),
        **{
            f"{name} (from an RGC token)": forged
            for name, forged in forgeries(platform, organisation.rgc_token, holder_token).items()
        },
    }
    wrong: list[str] = []
    for endpoint in _endpoints(organisation):
        client = _client(platform, endpoint.service)
        for name, token in tokens.items():
            response = await client.request(
                endpoint.method, endpoint.path, json=endpoint.body,
                headers={**bearer(token), "Idempotency-Key": str(uuid.uuid4())},
            )  # fmt: skip
            problem = response.headers.get("content-type", "") == "application/problem+json"
            if response.status_code != 401 or not problem:
                wrong.append(
                    f"{endpoint.method} {endpoint.path} ({endpoint.service}) with {name}: "
                    f"{response.status_code} {response.text[:200]}"
                )
    assert not wrong, "\n".join(wrong)

    platform.clock.advance(timedelta(seconds=1))
    assert await _state(platform, organisation) == before
    for token in (platform.operator_token, organisation.rgc_token, holder_token):
        still = await platform.identity_http.get(
            f"/v1/organisations/{organisation.id}", headers=bearer(token)
        )
        assert still.status_code == 200, still.text  # the real sessions were not ended


async def test_no_token_and_other_schemes_are_refused_with_401(platform: Platform) -> None:
    organisation = await platform.organisation(seed=9202)
    token = organisation.rgc_token
    headers: dict[str, dict[str, str]] = {
        "no header": {},
        "empty bearer": {"Authorization": "Bearer "},
        "basic": {"Authorization": "Basic " + base64.b64encode(b"rgc:secret").decode()},
        "token without scheme": {"Authorization": token},
        "token as a cookie": {"Cookie": f"access_token={token}"},
        "token in another header": {"X-Access-Token": token},
    }
    wrong = []
    for endpoint in _endpoints(organisation):
        client = _client(platform, endpoint.service)
        for name, given in headers.items():
            response = await client.request(
                endpoint.method, endpoint.path, json=endpoint.body, headers=given
            )
            if response.status_code != 401:
                wrong.append(
                    f"{endpoint.method} {endpoint.path} with {name}: {response.status_code}"
                )
    assert not wrong, "\n".join(wrong)
    # and with the query string: never read from the URL (it would end up in access logs)
    response = await platform.http.get(
        f"/v1/organisations/{organisation.id}/rgc", params={"access_token": token}
    )
    assert response.status_code == 401
