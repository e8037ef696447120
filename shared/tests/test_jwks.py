"""The JWKS client: tokens are checked offline with identity's keys, fetched once and cached;
a rotation is picked up with a single refetch, forged key ids cannot flood identity, identity
being down keeps the last good keys, and no keys at all is a distinct error (503, not 401)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from kairos_shared.clock import ManualClock
from kairos_shared.jwks import (
    InvalidJwksError,
    JwksClient,
    KeysUnavailableError,
    jwks_client_from_settings,
    parse_jwks,
)
from kairos_shared.settings import ServiceSettings
from kairos_shared.tokens import InvalidTokenError, TokenSigner

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
URL = "http://identity.test/.well-known/jwks.json"


class Identity:
    """A fake identity service's JWKS endpoint: serves ``document`` (or fails), counts calls."""

    def __init__(self, *signers: TokenSigner) -> None:
        self.document: Any = _jwks(*signers)
        self.failure: Callable[[httpx.Request], httpx.Response] | None = None
        self.delay = 0.0
        self.requests = 0

    def serve(self, *signers: TokenSigner) -> None:
        self.document = _jwks(*signers)
        self.failure = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failure is not None:
            return self.failure(request)
        if isinstance(self.document, bytes):
            return httpx.Response(200, content=self.document)
        return httpx.Response(200, json=self.document)


def _jwks(*signers: TokenSigner) -> dict[str, list[dict[str, str]]]:
    return {"keys": [signer.jwk for signer in signers]}


def _signer() -> TokenSigner:
    return TokenSigner(Ed25519PrivateKey.generate())


def _issue(signer: TokenSigner, now: datetime, account_id: str = "acc-1") -> str:
    return signer.issue(
        account_id=account_id,
        organisation_id="org-1",
        role="user",
        session_id="ses-1",
        password_change_only=False,
        now=now,
    )


def _connection_refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def _server_error(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, text="boom")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def signer() -> TokenSigner:
    return _signer()


@pytest.fixture
def identity(signer: TokenSigner) -> Identity:
    return Identity(signer)


@pytest.fixture
def client(identity: Identity, clock: ManualClock) -> JwksClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(identity))
    return JwksClient(URL, http=http, clock=clock)


async def test_a_token_verifies_after_the_first_fetch_and_keys_are_cached(
    client: JwksClient, identity: Identity, signer: TokenSigner, clock: ManualClock
) -> None:
    assert identity.requests == 0, "nothing is fetched before a token needs checking"
    claims = await client.verify(_issue(signer, START))
    assert (claims.account_id, claims.organisation_id, claims.role) == ("acc-1", "org-1", "user")
    clock.advance(timedelta(minutes=4))
    for _ in range(10):
        await client.verify(_issue(signer, clock.now()))
    assert identity.requests == 1


async def test_an_unknown_kid_refetches_once_then_verifies(
    client: JwksClient, identity: Identity, signer: TokenSigner, clock: ManualClock
) -> None:
    await client.verify(_issue(signer, START))
    clock.advance(timedelta(seconds=30))
    rotated = _signer()
    identity.serve(signer, rotated)  # identity publishes its new key, then signs with it

    claims = await client.verify(_issue(rotated, clock.now(), account_id="acc-2"))

    assert claims.account_id == "acc-2"
    assert identity.requests == 2
    await client.verify(_issue(signer, clock.now()))  # the old key stays valid while published
    await client.verify(_issue(rotated, clock.now()))
    assert identity.requests == 2


async def test_a_burst_of_unknown_kids_fetches_at_most_once_per_interval(
    client: JwksClient, identity: Identity, signer: TokenSigner, clock: ManualClock
) -> None:
    await client.verify(_issue(signer, START))
    forged = [_issue(_signer(), START) for _ in range(20)]

    async def refused() -> None:
        for token in forged:
            with pytest.raises(InvalidTokenError, match="unknown key"):
                await client.verify(token, now=clock.now())

    await refused()
    assert identity.requests == 1, "within 30 s of the last fetch: no refetch at all"
    clock.advance(timedelta(seconds=30))
    await refused()
    await asyncio.gather(*(client.verify(token) for token in forged), return_exceptions=True)
    assert identity.requests == 2
    clock.advance(timedelta(seconds=29))
    await refused()
    assert identity.requests == 2
    clock.advance(timedelta(seconds=1))
    await refused()
    assert identity.requests == 3


async def test_concurrent_first_verifies_cause_a_single_fetch(
    client: JwksClient, identity: Identity, signer: TokenSigner
) -> None:
    identity.delay = 0.05
    tokens = [_issue(signer, START, account_id=f"acc-{n}") for n in range(25)]

    results = await asyncio.gather(*(client.verify(token) for token in tokens))

    assert [claims.account_id for claims in results] == [f"acc-{n}" for n in range(25)]
    assert identity.requests == 1


@pytest.mark.parametrize("failure", [_connection_refused, _server_error], ids=["down", "500"])
async def test_identity_unreachable_keeps_the_last_keys(
    client: JwksClient,
    identity: Identity,
    signer: TokenSigner,
    clock: ManualClock,
    failure: Callable[[httpx.Request], httpx.Response],
) -> None:
    await client.verify(_issue(signer, START))
    identity.failure = failure
    clock.advance(timedelta(minutes=5))  # the keys are due for a refresh
    token = _issue(signer, clock.now())

    with structlog.testing.capture_logs() as logs:
        claims = await client.verify(token)
        await client.verify(token)

    assert claims.account_id == "acc-1"
    assert identity.requests == 2, "a failed refresh is not retried on every request"
    assert [entry["log_level"] for entry in logs] == ["warning"]
    assert "keeping the last keys" in logs[0]["event"]
    assert token not in repr(logs), "a token never reaches the logs"

    clock.advance(timedelta(seconds=30))
    identity.serve(signer)
    await client.verify(_issue(signer, clock.now()))
    assert identity.requests == 3


async def test_a_refresh_drops_keys_identity_stopped_publishing(
    client: JwksClient, identity: Identity, signer: TokenSigner, clock: ManualClock
) -> None:
    await client.verify(_issue(signer, START))
    successor = _signer()
    identity.serve(successor)
    clock.advance(timedelta(minutes=5))

    await client.verify(_issue(successor, clock.now()))  # the refresh happens on use

    assert identity.requests == 2
    with pytest.raises(InvalidTokenError, match="unknown key"):
        await client.verify(_issue(signer, clock.now()))


@pytest.mark.parametrize(
    "failure", [_connection_refused, _server_error], ids=["connection refused", "500"]
)
async def test_no_keys_at_all_is_a_distinct_error(
    client: JwksClient,
    identity: Identity,
    signer: TokenSigner,
    clock: ManualClock,
    failure: Callable[[httpx.Request], httpx.Response],
) -> None:
    identity.failure = failure
    token = _issue(signer, START)

    with structlog.testing.capture_logs() as logs:
        with pytest.raises(KeysUnavailableError):
            await client.verify(token)
        with pytest.raises(KeysUnavailableError):
            await client.verify(token)  # within a second: not asked again

    assert not issubclass(KeysUnavailableError, InvalidTokenError), "503, not 401"
    assert identity.requests == 1
    assert logs[0]["log_level"] == "warning"
    assert token not in repr(logs)

    identity.serve(signer)  # identity comes up after the service
    clock.advance(timedelta(seconds=1))
    assert (await client.verify(token)).account_id == "acc-1"
    assert identity.requests == 2


async def test_garbage_is_refused_without_fetching(client: JwksClient, identity: Identity) -> None:
    for token in ("", "not.a.token", "a.b"):
        with pytest.raises(InvalidTokenError):
            await client.verify(token)
    assert identity.requests == 0


@pytest.mark.parametrize(
    "document",
    [
        b"<html>not json</html>",
        b"\xff\xfe",
        [],
        {"keys": "none"},
        {"keys": []},
        {"keys": [{"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "too-short", "kid": "k"}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]},
        b'{"keys": [], "padding": "' + b"x" * 70_000 + b'"}',
    ],
    ids=[
        "not json",
        "not utf-8",
        "a list",
        "keys not a list",
        "no keys",
        "only rsa",
        "bad ed25519 key",
        "no kid",
        "oversized",
    ],
)
async def test_an_invalid_document_does_not_replace_good_keys(
    client: JwksClient, identity: Identity, signer: TokenSigner, clock: ManualClock, document: Any
) -> None:
    await client.verify(_issue(signer, START))
    identity.document = document
    clock.advance(timedelta(minutes=5))

    with structlog.testing.capture_logs() as logs:
        claims = await client.verify(_issue(signer, clock.now()))

    assert claims.account_id == "acc-1"
    assert identity.requests == 2
    assert logs[0]["log_level"] == "warning"


async def test_an_oversized_document_is_refused_even_without_a_declared_length(
    identity: Identity, signer: TokenSigner, clock: ManualClock
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield json.dumps(_jwks(signer)).encode()
        for _ in range(100):
            yield b" " * 1024

    async def streaming(request: httpx.Request) -> httpx.Response:
        identity.requests += 1
        return httpx.Response(200, content=chunks())

    http = httpx.AsyncClient(transport=httpx.MockTransport(streaming))
    client = JwksClient(URL, http=http, clock=clock, max_document_bytes=4096)
    with pytest.raises(KeysUnavailableError):
        await client.verify(_issue(signer, START))
    assert identity.requests == 1


async def test_a_fetch_that_hangs_times_out(signer: TokenSigner, clock: ManualClock) -> None:
    async def hanging(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(10)
        return httpx.Response(200, json=_jwks(signer))

    http = httpx.AsyncClient(transport=httpx.MockTransport(hanging))
    client = JwksClient(URL, http=http, clock=clock, fetch_timeout=timedelta(milliseconds=50))
    with pytest.raises(KeysUnavailableError):
        await asyncio.wait_for(client.verify(_issue(signer, START)), timeout=2)


async def test_keys_of_other_types_are_ignored(
    client: JwksClient, identity: Identity, signer: TokenSigner
) -> None:
    identity.document = {
        "keys": [
            {"kty": "RSA", "kid": "rsa", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "crv": "P-256", "kid": "ec", "x": "AA", "y": "AA"},
            {**signer.jwk, "crv": "X25519", "kid": "x25519"},
            {**signer.jwk, "use": "enc", "kid": "encryption"},
            "not a key",
            {**signer.jwk, "d": "private material, never kept"},
        ],
        "extra": "members are fine",
    }
    assert (await client.verify(_issue(signer, START))).account_id == "acc-1"
    assert parse_jwks(identity.document) == _jwks(signer)


def test_two_different_keys_with_one_kid_make_an_invalid_document(signer: TokenSigner) -> None:
    impostor = {**_signer().jwk, "kid": signer.jwk["kid"]}
    with pytest.raises(InvalidJwksError, match="share the kid"):
        parse_jwks({"keys": [signer.jwk, impostor]})
    assert parse_jwks({"keys": [signer.jwk, signer.jwk]}) == _jwks(signer)


async def test_tampered_foreign_and_expired_tokens_are_still_refused(
    client: JwksClient, signer: TokenSigner
) -> None:
    good = _issue(signer, START)
    header, payload, signature = good.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    impostor = _signer()
    impostor.jwk = {**impostor.jwk, "kid": signer.jwk["kid"]}  # claims to be identity's key
    wrong_key = _issue(impostor, START)

    for token in (tampered, wrong_key):
        with pytest.raises(InvalidTokenError):
            await client.verify(token, now=START)
    with pytest.raises(InvalidTokenError, match="expired"):
        await client.verify(good, now=START + timedelta(minutes=11))
    assert (await client.verify(good, now=START)).account_id == "acc-1"


async def test_static_jwks_makes_no_http_request(signer: TokenSigner, clock: ManualClock) -> None:
    def no_http(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected request to {request.url}")

    http = httpx.AsyncClient(transport=httpx.MockTransport(no_http))
    client = JwksClient(URL, http=http, static_jwks=_jwks(signer), clock=clock)

    assert (await client.verify(_issue(signer, START))).account_id == "acc-1"
    clock.advance(timedelta(hours=1))
    with pytest.raises(InvalidTokenError, match="unknown key"):
        await client.verify(_issue(_signer(), clock.now()))
    assert (await client.verify(_issue(signer, clock.now()))).account_id == "acc-1"
    with pytest.raises(InvalidJwksError):
        JwksClient(URL, static_jwks={"keys": []})


async def test_an_in_process_identity_app_serves_the_keys_over_asgi(signer: TokenSigner) -> None:
    app = FastAPI()

    @app.get("/.well-known/jwks.json")
    async def jwks() -> dict[str, list[dict[str, str]]]:
        return signer.jwks()

    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://identity") as http,
        JwksClient("http://identity/.well-known/jwks.json", http=http) as client,
    ):
        now = datetime.now(UTC)
        assert (await client.verify(_issue(signer, now))).account_id == "acc-1"
    assert http.is_closed


async def test_the_client_closes_the_http_client_it_made(signer: TokenSigner) -> None:
    client = JwksClient(URL, static_jwks=_jwks(signer))
    async with client:
        await client.verify(_issue(signer, datetime.now(UTC)))
    fetching = JwksClient("http://127.0.0.1:9/.well-known/jwks.json")  # discard port: refused
    async with fetching:
        with pytest.raises(KeysUnavailableError):
            await fetching.verify(_issue(signer, datetime.now(UTC)))
        assert fetching._http is not None
        made = fetching._http
    assert made.is_closed


class _ExampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KAIROS_EXAMPLE_", extra="ignore", frozen=True)

    service_name: str = "example"
    http_port: int = 8009
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/example")


async def test_settings_choose_a_static_key_set_or_the_url(
    monkeypatch: pytest.MonkeyPatch, signer: TokenSigner
) -> None:
    for name in ("KAIROS_JWKS_URL", "KAIROS_JWKS_JSON"):
        monkeypatch.delenv(name, raising=False)
    default = _ExampleSettings()
    assert default.identity_jwks_url == "http://127.0.0.1:8001/.well-known/jwks.json"
    assert default.identity_jwks_json is None
    assert not jwks_client_from_settings(default).static

    monkeypatch.setenv("KAIROS_JWKS_URL", "https://identity.internal/.well-known/jwks.json")
    monkeypatch.setenv("KAIROS_JWKS_JSON", json.dumps(_jwks(signer)))
    settings = _ExampleSettings()
    assert settings.identity_jwks_url == "https://identity.internal/.well-known/jwks.json"
    client = jwks_client_from_settings(settings)
    assert client.static
    assert (await client.verify(_issue(signer, datetime.now(UTC)))).account_id == "acc-1"

    monkeypatch.setenv("KAIROS_JWKS_JSON", "")
    assert _ExampleSettings().identity_jwks_json is None
    for bad in ("{not json", '{"keys": []}', "[]"):
        monkeypatch.setenv("KAIROS_JWKS_JSON", bad)
        with pytest.raises(ValidationError, match="not a usable JWKS"):
            _ExampleSettings()
    monkeypatch.delenv("KAIROS_JWKS_JSON")
    monkeypatch.setenv("KAIROS_JWKS_URL", "identity:8001/jwks")
    with pytest.raises(ValidationError, match="http"):
        _ExampleSettings()


def test_the_identity_prefix_does_not_configure_the_jwks(monkeypatch: pytest.MonkeyPatch) -> None:
    """``KAIROS_IDENTITY_*`` belongs to the identity service's settings: the JWKS variables are
    unprefixed, so neither side can read the other's."""

    class _IdentityLike(_ExampleSettings):
        model_config = SettingsConfigDict(
            env_prefix="KAIROS_IDENTITY_", extra="ignore", frozen=True
        )

    for name in ("KAIROS_JWKS_URL", "KAIROS_JWKS_JSON"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAIROS_IDENTITY_JWKS_URL", "http://elsewhere/jwks.json")
    monkeypatch.setenv("KAIROS_IDENTITY_JWKS_JSON", "{not json")
    assert _IdentityLike().identity_jwks_url == "http://127.0.0.1:8001/.well-known/jwks.json"
    assert _IdentityLike().identity_jwks_json is None
