"""Per-account read limits: a token bucket per key, on a clock the tests move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from kairos_shared.clock import ManualClock
from kairos_shared.problems import MEDIA_TYPE, install_problem_handlers
from kairos_shared.rate_limits import (
    RateLimitedError,
    RateLimiter,
    install_rate_limit_handler,
    problem,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _limiter(
    rate: float = 2.0, burst: int = 5, *, max_keys: int = 100_000
) -> tuple[RateLimiter, ManualClock]:
    clock = ManualClock(T0)
    return RateLimiter(rate, burst, clock, max_keys=max_keys), clock


def test_a_burst_passes_then_the_next_read_is_refused_with_the_wait() -> None:
    limiter, _ = _limiter(rate=2.0, burst=5)
    for _ in range(5):
        limiter.take("account-a")
    with pytest.raises(RateLimitedError) as refused:
        limiter.take("account-a")
    assert refused.value.retry_after_seconds == pytest.approx(0.5)
    assert refused.value.retry_after == 1


def test_tokens_come_back_at_the_rate_up_to_the_burst() -> None:
    limiter, clock = _limiter(rate=2.0, burst=5)
    for _ in range(5):
        limiter.take("account-a")
    clock.advance(timedelta(seconds=1))  # two tokens back
    limiter.take("account-a")
    limiter.take("account-a")
    with pytest.raises(RateLimitedError):
        limiter.take("account-a")
    clock.advance(timedelta(hours=1))  # never more than the burst
    for _ in range(5):
        limiter.take("account-a")
    with pytest.raises(RateLimitedError):
        limiter.take("account-a")


def test_a_refused_read_takes_nothing_so_waiting_the_retry_after_is_enough() -> None:
    limiter, clock = _limiter(rate=0.5, burst=2)
    limiter.take("account-a", cost=2)
    for _ in range(3):
        with pytest.raises(RateLimitedError) as refused:
            limiter.take("account-a")
    assert refused.value.retry_after_seconds == pytest.approx(2.0)
    clock.advance(timedelta(seconds=refused.value.retry_after_seconds))
    limiter.take("account-a")


def test_each_account_has_its_own_bucket() -> None:
    limiter, _ = _limiter(rate=1.0, burst=1)
    limiter.take("account-a")
    with pytest.raises(RateLimitedError):
        limiter.take("account-a")
    limiter.take("account-b")


def test_a_bigger_read_costs_more() -> None:
    limiter, _ = _limiter(rate=1.0, burst=10)
    limiter.take("account-a", cost=7.5)
    with pytest.raises(RateLimitedError) as refused:
        limiter.take("account-a", cost=3)
    assert refused.value.retry_after_seconds == pytest.approx(0.5)
    limiter.take("account-a", cost=2.5)


@pytest.mark.parametrize(
    ("rate", "burst", "max_keys", "message"),
    [
        (0.0, 5, 10, "rate_per_second"),
        (float("inf"), 5, 10, "rate_per_second"),
        (float("nan"), 5, 10, "rate_per_second"),
        (1.0, 0, 10, "burst"),
        (1.0, 5, 0, "max_keys"),
    ],
)
def test_a_limiter_that_could_not_work_is_refused(
    rate: float, burst: int, max_keys: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        RateLimiter(rate, burst, ManualClock(T0), max_keys=max_keys)


@pytest.mark.parametrize("cost", [-1.0, 6.0, float("nan")])
def test_a_cost_no_bucket_could_ever_pay_is_an_error(cost: float) -> None:
    limiter, _ = _limiter(burst=5)
    with pytest.raises(ValueError, match="cost"):
        limiter.take("account-a", cost=cost)


def test_buckets_full_again_are_dropped_so_memory_follows_active_accounts() -> None:
    limiter, clock = _limiter(rate=2.0, burst=5)  # full again 2.5 s after the last read
    for number in range(1_000):
        limiter.take(f"account-{number}")
    assert len(limiter) == 1_000
    clock.advance(timedelta(seconds=2))
    limiter.take("account-0")  # still within 2.5 s of its last read: kept, now most recent
    assert len(limiter) == 1_000
    clock.advance(timedelta(seconds=0.5))
    limiter.take("account-new")
    assert len(limiter) == 2  # account-0 and account-new; the 999 others were full again
    limiter.take("account-1")  # a dropped bucket is a full one: the account reads at once
    for _ in range(4):
        limiter.take("account-1")
    with pytest.raises(RateLimitedError):
        limiter.take("account-1")


def test_a_read_that_leaves_the_bucket_full_keeps_no_bucket() -> None:
    limiter, _ = _limiter()
    limiter.take("account-a", cost=0)
    assert len(limiter) == 0


def test_beyond_max_keys_the_least_recently_used_bucket_is_dropped() -> None:
    limiter, _ = _limiter(rate=1.0, burst=1, max_keys=3)
    for key in ("a", "b", "c"):
        limiter.take(key)
    limiter.take("d")  # "a" is the least recently used: dropped, not "b" or "c"
    assert len(limiter) == 3
    limiter.take("a")  # a dropped bucket comes back full: a loosening, never a wrong refusal
    for key in ("c", "d", "a"):
        with pytest.raises(RateLimitedError):
            limiter.take(key)


def test_a_clock_set_back_gives_no_tokens() -> None:
    limiter, clock = _limiter(rate=1.0, burst=1)
    clock.advance(timedelta(minutes=1))
    limiter.take("account-a")
    clock.set(T0)
    with pytest.raises(RateLimitedError):
        limiter.take("account-a")


def test_the_problem_is_a_429_with_the_wait_in_whole_seconds() -> None:
    refusal = problem(RateLimitedError(2.2))
    body = refusal.body(instance="/v1/declarations")
    assert body["status"] == 429
    assert body["type"].endswith("/rate-limited")
    assert body["retry_after"] == 3
    assert "retry in 3 s" in body["detail"]


async def test_a_route_over_the_limit_answers_429_with_retry_after() -> None:
    limiter, _ = _limiter(rate=0.25, burst=1)
    app = FastAPI()
    install_problem_handlers(app)
    install_rate_limit_handler(app)

    @app.get("/v1/trainees")
    async def trainees() -> list[str]:
        limiter.take("account-a")
        return []

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/v1/trainees")).status_code == 200
        refused = await client.get("/v1/trainees")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == MEDIA_TYPE
    assert refused.headers["retry-after"] == "4"
    assert refused.json()["retry_after"] == 4
    assert refused.json()["instance"] == "/v1/trainees"
