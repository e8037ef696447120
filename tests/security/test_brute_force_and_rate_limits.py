"""Guessing passwords and bulk reading, through the running platform.

K8: repeated wrong passwords at ``POST /v1/sessions`` first slow the account down, then lock
the address they come from out of it (429, ``Retry-After``); while it waits, even the right
password is refused from there, and the lock ends by itself. The owner, from another address,
still logs in: at worst after a short wait, never after a lock an attacker keeps renewing.
Unknown login ids get the same answers as known ones; logins, refreshes and password changes
draw from request buckets per address and in all (429), and argon2 runs in a bounded pool
(503 with ``Retry-After`` when it is full). K22: an account reading declarations too fast gets
429 with ``Retry-After`` and gets through again once it has waited that long.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from kairos_devstack.platform import PASSWORD, Platform, bearer, running_platform
from kairos_identity.domain.request_rate import RequestRate

pytestmark = [pytest.mark.security, pytest.mark.slow]

LOCK_THRESHOLD = 10  # IdentitySettings' defaults: 3 free attempts, then waits, locked at 10
LOCK_SECONDS = 15 * 60
MAX_WAIT_SECONDS = 30


@pytest_asyncio.fixture(loop_scope="session")
async def platform(
    new_database: Callable[[], Awaitable[str]], kafka_bootstrap_servers: str
) -> AsyncIterator[Platform]:
    async with running_platform(
        new_database, kafka_bootstrap_servers, with_declaration=True
    ) as platform:
        yield platform


async def _login(platform: Platform, login_id: str, password: str) -> httpx.Response:
    return await platform.identity_http.post(
        "/v1/sessions", json={"login_id": login_id, "password": password}
    )


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    value = response.headers.get("Retry-After")
    assert value is not None, "a 429 says when to come back"
    assert value.isdigit(), value
    return int(value)


async def test_wrong_passwords_slow_then_lock_the_account_and_the_right_one_waits_too(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=9301)
    login_id = organisation.rgc_login_id
    failures = 0
    waits: list[int] = []
    while failures < LOCK_THRESHOLD:
        response = await _login(platform, login_id, f"wrong guess number {failures}")
        if response.status_code == 401:
            failures += 1
            continue
        wait = _retry_after(response)
        assert wait <= MAX_WAIT_SECONDS, "a slow-down, not yet the lock"
        right = await _login(platform, login_id, PASSWORD)
        assert right.status_code == 429, "the right password waits like the others"
        waits.append(wait)
        platform.clock.advance(timedelta(seconds=wait))
    assert waits == sorted(waits), "the waits grow"
    assert len(waits) == LOCK_THRESHOLD - 3, "3 free attempts, then a wait before each"

    locked = await _login(platform, login_id, PASSWORD)
    wait = _retry_after(locked)
    assert LOCK_SECONDS - 5 <= wait <= LOCK_SECONDS
    assert locked.json()["locked"] is True
    assert PASSWORD not in locked.text

    platform.clock.advance(timedelta(seconds=wait - 60))
    still = await _login(platform, login_id, PASSWORD)
    assert still.status_code == 429, "the right password during the lock is refused"
    assert _retry_after(still) <= 60, "and refused attempts do not extend the lock"

    platform.clock.advance(timedelta(seconds=60))
    assert (await _login(platform, login_id, PASSWORD)).status_code == 201, "it ends by itself"
    # a success starts the count again: three free attempts
    for attempt in range(3):
        assert (await _login(platform, login_id, f"again {attempt}")).status_code == 401


async def test_guessing_an_unknown_login_never_locks_anything(platform: Platform) -> None:
    for attempt in range(LOCK_THRESHOLD + 2):
        response = await _login(platform, f"nobody-{uuid.uuid4().hex[:8]}", f"guess {attempt}")
        assert response.status_code == 401, response.text


def _client_at(platform: Platform, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=platform.identity, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://identity")


async def _login_from(client: httpx.AsyncClient, login_id: str, password: str) -> httpx.Response:
    return await client.post("/v1/sessions", json={"login_id": login_id, "password": password})


async def _lock_out(platform: Platform, client: httpx.AsyncClient, login_id: str) -> list[Any]:
    """Wrong passwords from `client`, each wait waited out, until the lock: the answers."""
    answers: list[Any] = []
    while len(answers) < 100:
        response = await _login_from(client, login_id, "a wrong guess")
        if response.status_code == 401:
            answers.append(401)
            continue
        answers.append((429, response.json()["locked"], _retry_after(response)))
        if response.json()["locked"]:
            return answers
        platform.clock.advance(timedelta(seconds=_retry_after(response)))
    raise AssertionError(f"{login_id} never locked from this address: {answers}")


async def test_an_attacker_cannot_keep_the_owner_locked_out(platform: Platform) -> None:
    organisation = await platform.organisation(seed=9302)
    login_id = organisation.rgc_login_id
    async with (
        _client_at(platform, "203.0.113.9") as attacker,
        _client_at(platform, "198.51.100.9") as owner,
    ):
        for _ in range(3):  # every lock duration, the attacker comes back and locks again
            await _lock_out(platform, attacker, login_id)
            owner_login = await _login_from(owner, login_id, PASSWORD)
            if owner_login.status_code == 429:  # a new address: a short slow-down at most
                assert owner_login.json()["locked"] is False
                assert _retry_after(owner_login) <= MAX_WAIT_SECONDS
                platform.clock.advance(timedelta(seconds=_retry_after(owner_login)))
                owner_login = await _login_from(owner, login_id, PASSWORD)
            assert owner_login.status_code == 201, "the owner gets in"
            assert (await _login_from(attacker, login_id, PASSWORD)).status_code == 429
            platform.clock.advance(timedelta(seconds=LOCK_SECONDS))


async def test_unknown_login_ids_get_the_same_answers_as_known_ones(platform: Platform) -> None:
    organisation = await platform.organisation(seed=9303)
    async with _client_at(platform, "203.0.113.10") as client:
        known = await _lock_out(platform, client, organisation.rgc_login_id)
        platform.clock.advance(timedelta(seconds=LOCK_SECONDS))
        unknown = await _lock_out(platform, client, f"nobody-{uuid.uuid4().hex[:8]}")
    assert known == unknown, "no enumeration by a 429 or its wait"


async def test_login_requests_per_address_are_limited(platform: Platform) -> None:
    original = platform.identity.state.identity
    platform.identity.state.identity = replace(
        original, rate_per_address=RequestRate(burst=5, interval=timedelta(minutes=1))
    )
    try:
        async with _client_at(platform, "203.0.113.11") as client:
            statuses = []
            for n in range(6):  # a new login id each time: no failure count stops them
                response = await _login_from(client, f"spray-{n}", "Printemps2026!")
                statuses.append(response.status_code)
            refresh = await client.post("/v1/sessions/refresh", json={"refresh_token": "x" * 43})
    finally:
        platform.identity.state.identity = original
    assert statuses == [401] * 5 + [429], statuses
    assert _retry_after(refresh) <= 60


async def test_a_full_argon2_pool_answers_503_with_retry_after(platform: Platform) -> None:
    original = platform.identity.state.identity
    release = threading.Event()

    class Slow:
        def hash(self, password: str) -> str:
            return str(original.hasher.hash(password))

        def verify(self, encoded: str, password: str) -> bool:
            release.wait(timeout=30)
            return bool(original.hasher.verify(encoded, password))

        def needs_rehash(self, encoded: str) -> bool:
            return bool(original.hasher.needs_rehash(encoded))

    busy_context = replace(original, hasher=Slow(), hashing_workers=1, hashing_queue=0)
    platform.identity.state.identity = busy_context
    try:
        async with _client_at(platform, "203.0.113.12") as client:
            first = asyncio.create_task(_login_from(client, "someone", "guess"))
            async with asyncio.timeout(30):
                while busy_context.hashing.in_flight < 1:  # noqa: ASYNC110 - the pool's count
                    await asyncio.sleep(0.01)
            busy = await _login_from(client, "someone-else", "guess")
            release.set()
            assert (await first).status_code == 401
    finally:
        release.set()
        platform.identity.state.identity = original
        busy_context.hashing.close()
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "1"


async def test_reading_declarations_too_fast_is_refused_with_retry_after(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=9302)
    _, token = await platform.active_holder(organisation, "reader@of.example")
    assert platform.declaration_http is not None
    url = f"/v1/organisations/{organisation.id}/declarations"

    statuses: list[int] = []
    refused = None
    for _ in range(200):
        response = await platform.declaration_http.get(url, headers=bearer(token))
        statuses.append(response.status_code)
        if response.status_code == 429:
            refused = response
            break
        assert response.status_code == 200, response.text
    assert refused is not None, f"200 reads went through: {statuses.count(200)}"
    assert statuses.count(200) >= 10, "a burst is allowed first"
    wait = _retry_after(refused)
    assert refused.json()["retry_after"] == wait

    again = await platform.declaration_http.get(url, headers=bearer(token))
    assert again.status_code == 429, "refused reads take nothing, and give nothing"
    platform.clock.advance(timedelta(seconds=wait))
    after = await platform.declaration_http.get(url, headers=bearer(token))
    assert after.status_code == 200, after.text

    other_organisation = await platform.organisation(seed=9303)
    _, other = await platform.active_holder(other_organisation, "other@of.example")
    other_url = f"/v1/organisations/{other_organisation.id}/declarations"
    assert (await platform.declaration_http.get(other_url, headers=bearer(other))).status_code == (
        200
    ), "the limit is per account"
