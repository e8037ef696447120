"""Login cannot take identity down, and no one can keep another person locked out (K8), on the
real PostgreSQL: failed logins lock one address out of one login id and only slow the login id
down elsewhere; unknown login ids are throttled exactly like known ones; the request rates per
address and in all answer 429, the bounded argon2 pool 503, both with ``Retry-After``."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx

from kairos_identity.domain.request_rate import RequestRate
from kairos_identity.service_layer.context import IdentityContext

from .helpers import organisation_with_rgc

IdentityApi = Any  # the conftest's dataclass (test modules cannot import the conftest)
RGC_PASSWORD = "Le responsable des comptes, 2026 !"
WRONG = "not the password at all"


@contextlib.asynccontextmanager
async def from_address(api: IdentityApi, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same app whose requests come from `address`."""
    transport = httpx.ASGITransport(app=api.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://identity") as client:
        yield client


@contextlib.contextmanager
def context_changed(api: IdentityApi, **changes: Any) -> Iterator[IdentityContext]:
    """The app's context with `changes` while the block runs."""
    original: IdentityContext = api.app.state.identity
    changed = replace(original, **changes)
    api.app.state.identity = changed
    try:
        yield changed
    finally:
        api.app.state.identity = original
        if "hashing" in changed.__dict__:
            changed.hashing.close()


async def login(client: httpx.AsyncClient, login_id: str, password: str) -> httpx.Response:
    return await client.post("/v1/sessions", json={"login_id": login_id, "password": password})


async def fail_until_locked(
    api: IdentityApi, client: httpx.AsyncClient, login_id: str
) -> list[Any]:
    """Wrong passwords from `client`, waiting each refusal out, until the lock: what each
    answer was (status, locked flag, seconds to wait)."""
    seen: list[Any] = []
    while len(seen) < 100:
        response = await login(client, login_id, WRONG)
        if response.status_code == 429:
            body = response.json()
            seen.append((429, body["locked"], response.headers["Retry-After"]))
            if body["locked"]:
                return seen
            api.clock.set(datetime.fromisoformat(body["retry_after"]))
            continue
        assert response.status_code == 401, response.text
        seen.append((401, None, None))
    raise AssertionError(f"{login_id} never locked from this address: {seen}")


async def test_an_attacker_locks_only_their_own_address_never_the_owner(
    identity_api: IdentityApi, operator_token: str
) -> None:
    rgc = await organisation_with_rgc(identity_api, operator_token, 1701)
    policy = identity_api.context.throttle
    async with (
        from_address(identity_api, "203.0.113.66") as attacker,
        from_address(identity_api, "198.51.100.7") as owner,
        from_address(identity_api, "192.0.2.15") as owner_elsewhere,
    ):
        assert (await login(owner, rgc["login_id"], RGC_PASSWORD)).status_code == 201
        await fail_until_locked(identity_api, attacker, rgc["login_id"])
        locked = await login(attacker, rgc["login_id"], RGC_PASSWORD)
        assert locked.status_code == 429, "the attacker's address is locked, right password too"
        assert locked.json()["locked"] is True

        # From a new address the owner waits at most the maximum delay, never a lock.
        slowed = await login(owner_elsewhere, rgc["login_id"], RGC_PASSWORD)
        assert slowed.status_code == 429
        assert slowed.json()["locked"] is False
        assert int(slowed.headers["Retry-After"]) <= policy.max_delay.total_seconds()
        identity_api.clock.advance(policy.max_delay)
        assert (await login(owner_elsewhere, rgc["login_id"], RGC_PASSWORD)).status_code == 201
        # The owner's usual address is not slowed down by the attacker's failures at all.
        assert (await login(owner, rgc["login_id"], RGC_PASSWORD)).status_code == 201
        # Meanwhile the attacker is still locked out.
        assert (await login(attacker, rgc["login_id"], RGC_PASSWORD)).status_code == 429

        # One wrong password every lock duration renews the attacker's own lock only.
        await _attacker_fails_again_after_the_lock(identity_api, attacker, rgc["login_id"])
        assert (await login(owner, rgc["login_id"], RGC_PASSWORD)).status_code == 201
        assert (await login(owner_elsewhere, rgc["login_id"], RGC_PASSWORD)).status_code == 201


async def _attacker_fails_again_after_the_lock(
    api: IdentityApi, attacker: httpx.AsyncClient, login_id: str
) -> None:
    """One wrong password every lock duration: it renews the attacker's own lock only."""
    api.clock.advance(api.context.throttle.lock_duration)
    assert (await login(attacker, login_id, WRONG)).status_code == 401
    again = await login(attacker, login_id, WRONG)
    assert again.status_code == 429
    assert again.json()["locked"] is True


async def test_failures_from_many_addresses_only_slow_the_login_id_down(
    identity_api: IdentityApi, operator_token: str
) -> None:
    rgc = await organisation_with_rgc(identity_api, operator_token, 1702)
    policy = identity_api.context.throttle
    refusals = []
    for n in range(policy.lock_threshold * 2):  # each address stays under its own free attempts
        async with from_address(identity_api, f"203.0.113.{n + 1}") as client:
            response = await login(client, rgc["login_id"], WRONG)
            if response.status_code == 429:
                refusals.append(response.json())
                identity_api.clock.set(datetime.fromisoformat(response.json()["retry_after"]))
                response = await login(client, rgc["login_id"], WRONG)
            assert response.status_code == 401, response.text
    assert refusals, "the login id is slowed down across addresses"
    assert not any(refusal["locked"] for refusal in refusals), "never locked for everyone"
    async with from_address(identity_api, "192.0.2.200") as owner:
        waited = await login(owner, rgc["login_id"], RGC_PASSWORD)
        assert waited.status_code == 429
        wait = datetime.fromisoformat(waited.json()["retry_after"]) - identity_api.clock.now()
        assert wait <= policy.max_delay
        identity_api.clock.advance(policy.max_delay)
        assert (await login(owner, rgc["login_id"], RGC_PASSWORD)).status_code == 201


async def test_unknown_login_ids_are_throttled_exactly_like_known_ones(
    identity_api: IdentityApi, operator_token: str
) -> None:
    rgc = await organisation_with_rgc(identity_api, operator_token, 1703)
    async with from_address(identity_api, "203.0.113.70") as client:
        start = identity_api.clock.now()
        known = await fail_until_locked(identity_api, client, rgc["login_id"])
        identity_api.clock.set(start)
        unknown = await fail_until_locked(identity_api, client, "nobody-by-that-name")
    assert known == unknown, "the same answers, the same waits: nothing tells them apart"

    identity_api.clock.advance(identity_api.context.throttle.failure_memory)  # counts forgotten
    rate = RequestRate(burst=3, interval=timedelta(minutes=10))
    with context_changed(identity_api, rate_per_address=rate):
        for login_id in (rgc["login_id"], "still-nobody"):
            async with from_address(identity_api, f"198.51.100.{len(login_id)}") as client:
                statuses = [(await login(client, login_id, WRONG)).status_code for _ in range(4)]
                refused = await login(client, login_id, WRONG)
            assert statuses == [401, 401, 401, 429], login_id
            assert refused.json()["type"].endswith("too-many-requests")
            assert 0 < int(refused.headers["Retry-After"]) <= 600


async def test_the_rates_hold_refresh_and_password_change_too(
    identity_api: IdentityApi, operator_token: str
) -> None:
    # The tests before this one on the same database moved other clocks: a fresh bucket.
    await identity_api.context.pool.execute("DELETE FROM client_throttle WHERE scope = 'password'")
    rate = RequestRate(burst=2, interval=timedelta(minutes=10))
    with context_changed(identity_api, rate_global=rate):
        async with from_address(identity_api, "203.0.113.90") as client:
            for _ in range(2):
                response = await client.post(
                    "/v1/sessions/refresh", json={"refresh_token": "x" * 43}
                )
                assert response.status_code == 401
            refused = await client.post(
                "/v1/accounts/me/password",
                json={"current_password": WRONG, "new_password": WRONG + "!"},
                headers={"Authorization": f"Bearer {operator_token}"},
            )
        # the global bucket: another address is refused as well
        async with from_address(identity_api, "203.0.113.91") as other:
            refused_elsewhere = await other.post(
                "/v1/sessions/refresh", json={"refresh_token": "x" * 43}
            )
    assert refused.status_code == 429, "no password tried once the bucket is empty"
    assert refused_elsewhere.status_code == 429, "the bucket is everyone's"
    assert int(refused_elsewhere.headers["Retry-After"]) > 0


class _BlockingHasher:
    """The real hasher, whose checks wait until the test lets them go."""

    def __init__(self, hasher: Any) -> None:
        self._hasher = hasher
        self.started = threading.Event()
        self.release = threading.Event()

    def hash(self, password: str) -> str:
        return str(self._hasher.hash(password))

    def verify(self, encoded_hash: str, password: str) -> bool:
        self.started.set()
        self.release.wait(timeout=30)
        return bool(self._hasher.verify(encoded_hash, password))

    def needs_rehash(self, encoded_hash: str) -> bool:
        return bool(self._hasher.needs_rehash(encoded_hash))


async def test_the_argon2_pool_is_bounded_and_says_when_to_come_back(
    identity_api: IdentityApi, operator_token: str
) -> None:
    del operator_token
    blocking = _BlockingHasher(identity_api.context.hasher)
    with context_changed(identity_api, hasher=blocking, hashing_workers=1, hashing_queue=1):
        async with from_address(identity_api, "203.0.113.100") as client:
            first = asyncio.create_task(login(client, "operrin", WRONG))
            second = asyncio.create_task(login(client, "nobody", WRONG))
            await asyncio.to_thread(blocking.started.wait, 30)
            async with asyncio.timeout(30):
                while identity_api.app.state.identity.hashing.in_flight < 2:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            busy = await login(client, "someone", WRONG)
            event_loop_free = await client.get("/.well-known/jwks.json")
            blocking.release.set()
            answered = [(await first).status_code, (await second).status_code]
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "1"
    assert event_loop_free.status_code == 200, "the event loop answers while argon2 works"
    assert answered == [401, 401]
