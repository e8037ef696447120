"""K8: repeated failed logins slow down, then lock the account for a while, never for good."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos_identity.domain.throttling import (
    LoginThrottlePolicy,
    LoginThrottleState,
    ThrottleDecision,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
POLICY = LoginThrottlePolicy()


def after_failures(count: int, policy: LoginThrottlePolicy = POLICY) -> LoginThrottleState:
    """The state after `count` failures, all at T0."""
    state = LoginThrottleState()
    for _ in range(count):
        state = policy.after_failure(state, T0)
    return state


def test_default_limits() -> None:
    assert (POLICY.free_attempts, POLICY.lock_threshold) == (3, 10)
    assert (POLICY.base_delay, POLICY.max_delay) == (timedelta(seconds=1), timedelta(seconds=30))
    assert (POLICY.lock_duration, POLICY.failure_memory) == (
        timedelta(minutes=15),
        timedelta(hours=24),
    )


def test_an_account_without_failures_may_always_try() -> None:
    assert POLICY.decide(LoginThrottleState(), T0) == ThrottleDecision(
        allowed=True, retry_after=None, locked=False
    )


@pytest.mark.parametrize("failures", [1, 2])
def test_the_first_failures_cost_nothing(failures: int) -> None:
    assert POLICY.decide(after_failures(failures), T0).allowed


@pytest.mark.parametrize("failures", [1, 2])
def test_the_first_failures_cost_nothing_on_a_clock_a_moment_behind(failures: int) -> None:
    """Another replica recorded the last failure on a clock slightly ahead of this one's: no
    wait is owed, so nothing is refused (a refusal here once stopped a two-replica test)."""
    assert POLICY.decide(after_failures(failures), T0 - timedelta(seconds=1)).allowed


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(3, 1), (4, 2), (5, 4), (6, 8), (7, 16), (8, 30), (9, 30)],
)
def test_further_failures_double_the_wait_up_to_the_maximum(failures: int, seconds: int) -> None:
    state = after_failures(failures)
    wait = timedelta(seconds=seconds)

    assert POLICY.wait_after(failures) == wait
    assert POLICY.decide(state, T0 + wait - timedelta(microseconds=1)) == ThrottleDecision(
        allowed=False, retry_after=T0 + wait, locked=False
    )
    assert POLICY.decide(state, T0 + wait).allowed


@pytest.mark.parametrize("failures", [10, 11, 50])
def test_from_the_threshold_on_the_account_is_locked_for_the_lock_duration(failures: int) -> None:
    state = after_failures(failures)

    assert POLICY.decide(state, T0 + timedelta(minutes=14, seconds=59)) == ThrottleDecision(
        allowed=False, retry_after=T0 + timedelta(minutes=15), locked=True
    )
    assert POLICY.decide(state, T0 + timedelta(minutes=15)).allowed


def test_a_failure_after_the_lock_locks_again_from_that_failure() -> None:
    unlocked_at = T0 + timedelta(minutes=15)
    state = POLICY.after_failure(after_failures(10), unlocked_at)

    decision = POLICY.decide(state, unlocked_at + timedelta(minutes=1))

    assert state.consecutive_failures == 11
    assert decision == ThrottleDecision(
        allowed=False, retry_after=unlocked_at + timedelta(minutes=15), locked=True
    )


def test_a_lock_lasts_its_duration_even_when_the_clocks_go_back() -> None:
    paris = ZoneInfo("Europe/Paris")
    last_failure_at = datetime(2025, 10, 26, 2, 50, tzinfo=paris)  # summer time, 00:50 UTC
    state = LoginThrottleState(consecutive_failures=10, last_failure_at=last_failure_at)
    fifteen_minutes_later = datetime(2025, 10, 26, 2, 5, fold=1, tzinfo=paris)  # winter time

    decision = POLICY.decide(state, fifteen_minutes_later)

    assert decision.allowed
    just_before = datetime(2025, 10, 26, 1, 4, 59, tzinfo=UTC)
    assert POLICY.decide(state, just_before) == ThrottleDecision(
        allowed=False, retry_after=datetime(2025, 10, 26, 1, 5, tzinfo=UTC), locked=True
    )


def test_a_failure_records_the_count_and_the_time() -> None:
    state = POLICY.after_failure(after_failures(2), T0 + timedelta(seconds=5))

    assert state == LoginThrottleState(
        consecutive_failures=3, last_failure_at=T0 + timedelta(seconds=5)
    )


def test_a_failure_long_after_the_previous_one_starts_a_new_count() -> None:
    state = POLICY.after_failure(after_failures(10), T0 + timedelta(hours=24))

    assert state.consecutive_failures == 1


def test_the_memory_of_failures_is_measured_in_real_time() -> None:
    paris = ZoneInfo("Europe/Paris")
    before = LoginThrottleState(10, datetime(2025, 3, 29, 12, 0, tzinfo=paris))
    wall_clock_day_later = datetime(2025, 3, 30, 12, 0, tzinfo=paris)  # only 23 hours later

    assert POLICY.after_failure(before, wall_clock_day_later).consecutive_failures == 11


def test_a_success_forgets_every_failure() -> None:
    assert POLICY.after_success(after_failures(12)) == LoginThrottleState()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"free_attempts": 0}, "free_attempts must be 1 or more, got 0"),
        ({"lock_threshold": 3}, "lock_threshold must be greater than free_attempts"),
        ({"base_delay": timedelta(0)}, "delays must satisfy 0 < base_delay"),
        ({"max_delay": timedelta(minutes=16)}, "delays must satisfy 0 < base_delay"),
        ({"base_delay": timedelta(seconds=40)}, "delays must satisfy 0 < base_delay"),
        ({"lock_duration": timedelta(days=2)}, "lock_duration must be at most 1 day"),
        ({"failure_memory": timedelta(minutes=5)}, "failure_memory must be at least"),
    ],
)
def test_inconsistent_limits_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LoginThrottlePolicy(**changes)  # type: ignore[arg-type]  # values vary by field


def test_a_policy_with_one_free_attempt_slows_down_from_the_first_failure() -> None:
    policy = LoginThrottlePolicy(free_attempts=1, lock_threshold=5)

    assert policy.wait_after(0) == timedelta(0)
    assert policy.wait_after(1) == timedelta(seconds=1)
    assert policy.decide(after_failures(1, policy), T0).retry_after == T0 + timedelta(seconds=1)


def test_naive_times_are_refused() -> None:
    naive = T0.replace(tzinfo=None)

    with pytest.raises(ValueError, match="now must be an aware datetime"):
        POLICY.decide(LoginThrottleState(), naive)
    with pytest.raises(ValueError, match="now must be an aware datetime"):
        POLICY.after_failure(LoginThrottleState(), naive)
    with pytest.raises(ValueError, match="last_failure_at must be an aware datetime"):
        POLICY.decide(LoginThrottleState(3, naive), T0)


policies = st.builds(
    LoginThrottlePolicy,
    free_attempts=st.integers(min_value=1, max_value=5),
    base_delay=st.just(timedelta(seconds=1)),
    max_delay=st.integers(min_value=1, max_value=600).map(lambda s: timedelta(seconds=s)),
    lock_threshold=st.integers(min_value=6, max_value=20),
    lock_duration=st.integers(min_value=600, max_value=86_400).map(lambda s: timedelta(seconds=s)),
)
gaps = st.lists(
    st.integers(min_value=0, max_value=7_200).map(lambda s: timedelta(seconds=s)),
    min_size=1,
    max_size=60,
)


@given(policies, gaps)
def test_an_attempt_is_always_allowed_again_within_the_lock_duration(
    policy: LoginThrottlePolicy, gaps_between_failures: list[timedelta]
) -> None:
    state = LoginThrottleState()
    now = T0
    for gap in gaps_between_failures:
        now += gap
        state = policy.after_failure(state, now)
        decision = policy.decide(state, now)
        if not decision.allowed:
            assert decision.retry_after is not None
            assert decision.retry_after <= now + policy.lock_duration

    assert policy.decide(state, now + policy.lock_duration).allowed


@given(policies, st.integers(min_value=0, max_value=40))
def test_the_wait_never_shrinks_as_failures_add_up(
    policy: LoginThrottlePolicy, failures: int
) -> None:
    assert policy.wait_after(failures) <= policy.wait_after(failures + 1) <= policy.lock_duration
