"""Guessing passwords and bulk reading, through the running platform.

K8: repeated wrong passwords at ``POST /v1/sessions`` first slow the account down, then lock it
(429, ``Retry-After``); while it waits, even the right password is refused, and the lock ends by
itself. K22: an account reading declarations too fast gets 429 with ``Retry-After`` and gets
through again once it has waited that long.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
import pytest_asyncio

from kairos_devstack.platform import PASSWORD, Platform, bearer, running_platform

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
