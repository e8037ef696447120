"""Login throttling (K8): failed logins first slow an account down, then lock it for a while.

The state is per account: how many consecutive failures, and when the last one happened. The
first `free_attempts` attempts need no wait; after that, each failure makes the next attempt wait,
the wait doubling from `base_delay` up to `max_delay`; from `lock_threshold` failures on, the
account is locked for `lock_duration` after the last failure. Every wait runs from the last
failure and none exceeds `lock_duration`, so a lock always ends by itself: an attacker can make an
account wait, never shut it for good. A success starts the count again.

Only attempts that were allowed and then failed are recorded: a refused attempt checks no
password and extends nothing. Time is handed in, as aware datetimes.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from kairos_shared.clock import as_utc, require_aware

MAX_LOCK_DURATION: Final = timedelta(days=1)
"""A longer lock would let anyone who knows a login id keep its owner out for days."""


@dataclass(frozen=True, slots=True)
class LoginThrottleState:
    """What the throttle remembers of an account's recent failed logins."""

    consecutive_failures: int = 0
    last_failure_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ThrottleDecision:
    """Whether a login attempt may proceed now; if not, from when, and whether it is a lock."""

    allowed: bool
    retry_after: datetime | None
    locked: bool


_ALLOWED: Final = ThrottleDecision(allowed=True, retry_after=None, locked=False)


@dataclass(frozen=True, slots=True)
class LoginThrottlePolicy:
    """The throttle's limits, from configuration (K8)."""

    free_attempts: int = 3
    """Attempts made without waiting; the first one always is, having no failure to wait from."""
    base_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(seconds=30)
    lock_threshold: int = 10
    lock_duration: timedelta = timedelta(minutes=15)
    failure_memory: timedelta = timedelta(hours=24)
    """A failure this long after the previous one starts a new count."""

    def __post_init__(self) -> None:
        if self.free_attempts < 1:
            raise ValueError(f"free_attempts must be 1 or more, got {self.free_attempts}")
        if self.lock_threshold <= self.free_attempts:
            raise ValueError("lock_threshold must be greater than free_attempts")
        if not timedelta(0) < self.base_delay <= self.max_delay <= self.lock_duration:
            raise ValueError("delays must satisfy 0 < base_delay <= max_delay <= lock_duration")
        if self.lock_duration > MAX_LOCK_DURATION:
            raise ValueError(f"lock_duration must be at most {MAX_LOCK_DURATION}")
        if self.failure_memory < self.lock_duration:
            raise ValueError("failure_memory must be at least lock_duration")

    def wait_after(self, failures: int) -> timedelta:
        """How long after the last failure the next attempt must wait, given the count."""
        if failures >= self.lock_threshold:
            return self.lock_duration
        if failures < self.free_attempts:
            return timedelta(0)
        delay = self.base_delay
        for _ in range(failures - self.free_attempts):
            delay = min(delay * 2, self.max_delay)
            if delay == self.max_delay:
                break
        return delay

    def decide(self, state: LoginThrottleState, now: datetime) -> ThrottleDecision:
        """May a login attempt be made at `now`? If not, until when must it wait?"""
        require_aware(now, "now")
        wait = self.wait_after(state.consecutive_failures)
        if state.last_failure_at is None or not wait:
            # No wait is owed: allowed even when this replica's clock is a moment behind the
            # one that recorded the last failure (replicas' clocks never agree to the microsecond).
            return _ALLOWED
        retry_after = as_utc(state.last_failure_at, "last_failure_at") + wait
        if now >= retry_after:
            return _ALLOWED
        locked = state.consecutive_failures >= self.lock_threshold
        return ThrottleDecision(allowed=False, retry_after=retry_after, locked=locked)

    def after_failure(self, state: LoginThrottleState, now: datetime) -> LoginThrottleState:
        """The state once an allowed attempt has failed at `now`."""
        at = as_utc(now, "now")
        previous = state.last_failure_at
        fresh = previous is None or at - as_utc(previous, "last_failure_at") >= self.failure_memory
        failures = 1 if fresh else state.consecutive_failures + 1
        return LoginThrottleState(consecutive_failures=failures, last_failure_at=at)

    def after_success(self, state: LoginThrottleState) -> LoginThrottleState:
        """The state once an attempt has succeeded: nothing to remember."""
        del state  # a success wipes the count whatever it was
        return LoginThrottleState()

    def slow_down_only(self) -> "LoginThrottlePolicy":
        """The same waits, never a lock: the per-account side of K8, which anyone who knows a
        login id can feed, so it may make its owner wait seconds, never keep them out."""
        return replace(
            self, lock_threshold=NEVER_LOCKS, lock_duration=self.max_delay,
            failure_memory=max(self.failure_memory, self.max_delay),
        )  # fmt: skip


NEVER_LOCKS: Final = 2**31 - 1
