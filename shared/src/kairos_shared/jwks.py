"""The identity service's public keys, cached: every other service validates access tokens
offline with them (K9, K17: no synchronous call to identity to decide access).

:class:`JwksClient` fetches ``GET /.well-known/jwks.json`` on first use and keeps the key set:

- a token whose ``kid`` it does not know makes it fetch again (a key rotation), at most once per
  ``min_refetch_interval`` however many such tokens come, so forged ``kid`` values cannot turn
  into a flood of requests to identity;
- once ``refresh_interval`` has passed it fetches again on the next use (no background task), so
  a key identity stopped publishing stops being accepted;
- when identity cannot be reached, answers badly or serves an invalid document, it keeps the last
  good keys and logs a warning (never the token); with no keys at all it raises
  :class:`KeysUnavailableError`, which a service answers with 503 (it cannot tell), not 401;
- one fetch at a time: callers that arrive during a fetch wait for it and share its outcome.

Identity must publish a new key before signing with it: a token signed with a key published less
than ``min_refetch_interval`` after the last fetch is refused until the interval has passed.

With ``static_jwks`` (a key set from configuration, for deployments that mount it) the client
never makes an HTTP request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

import httpx
import jwt
import structlog

from kairos_shared.clock import Clock, SystemClock, require_aware
from kairos_shared.tokens import ALGORITHM, AccessClaims, InvalidTokenError, TokenVerifier

if TYPE_CHECKING:
    from types import TracebackType

    from kairos_shared.settings import ServiceSettings

log = structlog.get_logger(__name__)

MAX_DOCUMENT_BYTES = 64 * 1024
"""A JWKS of a few Ed25519 keys is well under a kilobyte."""

# The public members of an Ed25519 JWK: anything else (a private "d" above all) is dropped.
_PUBLIC_MEMBERS = ("kty", "crv", "x", "kid", "use", "alg")


class KeysUnavailableError(Exception):
    """No key to check tokens against: identity has not been reached yet and no key set is
    configured. The token may well be valid: answer 503, not 401."""


class InvalidJwksError(ValueError):
    """The document is not a key set with at least one usable Ed25519 signing key."""


def parse_jwks(document: object) -> dict[str, list[dict[str, str]]]:
    """The usable keys of a JWKS document: Ed25519 (OKP) signing keys with a ``kid``, reduced to
    their public members. Keys of other types, or for another use or algorithm, are ignored, as
    are malformed Ed25519 keys; :class:`InvalidJwksError` when nothing usable is left or when two
    different keys share a ``kid``."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise InvalidJwksError('a JWKS is a JSON object with a "keys" list')
    usable: dict[str, dict[str, str]] = {}
    for candidate in document["keys"]:
        key = _usable_key(candidate)
        if key is None:
            continue
        known = usable.setdefault(key["kid"], key)
        if known["x"] != key["x"]:
            raise InvalidJwksError(f"two different keys share the kid {key['kid']!r}")
    if not usable:
        raise InvalidJwksError("the JWKS has no Ed25519 signing key")
    return {"keys": list(usable.values())}


def _usable_key(candidate: object) -> dict[str, str] | None:
    if not (
        isinstance(candidate, dict)
        and candidate.get("kty") == "OKP"
        and candidate.get("crv") == "Ed25519"
        and candidate.get("use", "sig") == "sig"
        and candidate.get("alg", ALGORITHM) == ALGORITHM
        and isinstance(candidate.get("kid"), str)
        and candidate["kid"]
    ):
        return None
    key = {name: candidate[name] for name in _PUBLIC_MEMBERS if name in candidate}
    if not all(isinstance(value, str) for value in key.values()):
        return None
    try:
        jwt.PyJWK(key, algorithm=ALGORITHM)
    except (jwt.PyJWTError, ValueError):
        return None
    return key


@dataclass(frozen=True)
class _KeySet:
    verifier: TokenVerifier
    kids: frozenset[str]
    fetched_at: datetime | None

    @classmethod
    def of(cls, jwks: dict[str, list[dict[str, str]]], fetched_at: datetime | None) -> _KeySet:
        return cls(TokenVerifier(jwks), frozenset(key["kid"] for key in jwks["keys"]), fetched_at)


class _FetchError(Exception):
    """Identity answered, but not with a key set we can use."""


class JwksClient:
    """Validates access tokens with identity's key set, fetched over HTTP and cached."""

    def __init__(
        self,
        url: str,
        *,
        http: httpx.AsyncClient | None = None,
        refresh_interval: timedelta = timedelta(minutes=5),
        min_refetch_interval: timedelta = timedelta(seconds=30),
        unavailable_retry_interval: timedelta = timedelta(seconds=1),
        fetch_timeout: timedelta = timedelta(seconds=5),
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
        static_jwks: dict[str, Any] | None = None,
        clock: Clock | None = None,
    ) -> None:
        """``http``: a client to fetch with (it stays the caller's to close); otherwise the
        client makes its own, closed by :meth:`aclose`. ``unavailable_retry_interval`` spaces
        fetch attempts while there are no keys at all (a service started before identity
        recovers within that time). ``static_jwks``: use this key set, never fetch."""
        httpx.URL(url)  # an unusable URL is a configuration error, raised at start
        for name, interval in (
            ("refresh_interval", refresh_interval),
            ("min_refetch_interval", min_refetch_interval),
            ("fetch_timeout", fetch_timeout),
        ):
            if interval <= timedelta(0):
                raise ValueError(f"{name} must be positive, got {interval}")
        if unavailable_retry_interval < timedelta(0):
            raise ValueError("unavailable_retry_interval cannot be negative")
        if max_document_bytes < 1:
            raise ValueError("max_document_bytes must be positive")
        self.url = url
        self._http = http
        self._owns_http = False
        self._refresh_interval = refresh_interval
        self._min_refetch_interval = min_refetch_interval
        self._unavailable_retry_interval = unavailable_retry_interval
        self._fetch_timeout = fetch_timeout
        self._max_document_bytes = max_document_bytes
        self._clock: Clock = clock or SystemClock()
        self._lock = asyncio.Lock()
        self._keys: _KeySet | None = None
        self._last_attempt_at: datetime | None = None
        self.static = static_jwks is not None
        if static_jwks is not None:
            self._keys = _KeySet.of(parse_jwks(static_jwks), fetched_at=None)

    async def verify(self, token: str, *, now: datetime | None = None) -> AccessClaims:
        """The token's claims, judged at ``now`` (default: the client's clock).

        Raises :class:`~kairos_shared.tokens.InvalidTokenError` (401) for a malformed, tampered,
        expired or foreign token, :class:`KeysUnavailableError` (503) when there are no keys."""
        instant = self._clock.now() if now is None else require_aware(now, "now")
        kid = _kid_of(token)
        if kid is None:  # refused without looking at keys: garbage never triggers a fetch
            raise InvalidTokenError("token without a key id")
        keys = await self._keys_for(kid)
        return keys.verifier.verify(token, now=instant)

    async def _keys_for(self, kid: str) -> _KeySet:
        if self.static:
            assert self._keys is not None
            return self._keys
        if self._keys is None:
            await self._fetch_when(self._may_fetch_without_keys)
        elif kid not in self._keys.kids:
            await self._fetch_when(lambda: self._may_refetch_for(kid))
        elif self._is_stale():
            await self._fetch_when(self._is_stale)
        if self._keys is None:
            raise KeysUnavailableError("the identity service's keys could not be fetched yet")
        return self._keys

    def _since_last_attempt(self) -> timedelta | None:
        if self._last_attempt_at is None:
            return None
        return self._clock.now() - self._last_attempt_at

    def _may_fetch_without_keys(self) -> bool:
        elapsed = self._since_last_attempt()
        return self._keys is None and (
            elapsed is None or elapsed >= self._unavailable_retry_interval
        )

    def _may_refetch(self) -> bool:
        elapsed = self._since_last_attempt()
        return elapsed is None or elapsed >= self._min_refetch_interval

    def _may_refetch_for(self, kid: str) -> bool:
        return self._keys is not None and kid not in self._keys.kids and self._may_refetch()

    def _is_stale(self) -> bool:
        keys = self._keys
        return (
            keys is not None
            and keys.fetched_at is not None
            and self._clock.now() - keys.fetched_at >= self._refresh_interval
            and self._may_refetch()
        )

    async def _fetch_when(self, needed: Callable[[], bool]) -> None:
        """One fetch at a time; ``needed`` is asked again once the lock is held, so callers
        that waited for someone else's fetch use its outcome instead of fetching again."""
        if not needed():
            return
        async with self._lock:
            if needed():
                await self._fetch()

    async def _fetch(self) -> None:
        try:
            body = await self._download()
            jwks = parse_jwks(json.loads(body))
        except (httpx.HTTPError, OSError, TimeoutError, ValueError, _FetchError) as error:
            self._last_attempt_at = self._clock.now()
            log.warning(
                "jwks fetch failed, keeping the last keys"
                if self._keys is not None
                else "jwks fetch failed, no keys to check tokens with",
                url=self.url,
                error=f"{type(error).__name__}: {error}",
            )
            return
        now = self._clock.now()
        self._last_attempt_at = now
        previous = self._keys.kids if self._keys is not None else None
        self._keys = _KeySet.of(jwks, fetched_at=now)
        if previous != self._keys.kids:
            log.info("jwks keys loaded", url=self.url, kids=sorted(self._keys.kids))

    async def _download(self) -> bytes:
        client = self._client()
        timeout = self._fetch_timeout.total_seconds()
        async with (
            asyncio.timeout(timeout),  # the whole exchange, not only each read
            client.stream(
                "GET", self.url, headers={"Accept": "application/json"}, timeout=timeout
            ) as response,
        ):
            if response.status_code != httpx.codes.OK:
                raise _FetchError(f"HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self._max_document_bytes:
                raise _FetchError(f"document of {declared} bytes is over the limit")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._max_document_bytes:
                    raise _FetchError(f"document over {self._max_document_bytes} bytes")
            return bytes(body)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
            self._owns_http = True
        return self._http

    async def aclose(self) -> None:
        """Closes the HTTP client the JwksClient made itself (an injected one is left open)."""
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None
            self._owns_http = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _kid_of(token: str) -> str | None:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return None
    return kid if isinstance(kid, str) and kid else None


def jwks_client_from_settings(
    settings: ServiceSettings, http: httpx.AsyncClient | None = None, *, clock: Clock | None = None
) -> JwksClient:
    """The service's JwksClient: the configured key set when ``identity_jwks_json`` is set
    (no HTTP at all), else identity's ``identity_jwks_url``."""
    if settings.identity_jwks_json is not None:
        return JwksClient(
            settings.identity_jwks_url,
            static_jwks=json.loads(settings.identity_jwks_json),
            clock=clock,
        )
    return JwksClient(settings.identity_jwks_url, http=http, clock=clock)
