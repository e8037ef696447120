"""Time, injected: every deadline (21 days, 7 days, 3 months, 3 years, reviews, attendance)
reads a :class:`Clock`, so tests move time instead of waiting for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to (tests, simulations)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start instant")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, by: timedelta) -> datetime:
        if by < timedelta(0):
            raise ValueError("time does not go backwards")
        self._now += by
        return self._now

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("ManualClock needs timezone-aware instants")
        self._now = instant.astimezone(UTC)


def require_aware(value: datetime, name: str) -> datetime:
    """``value`` unchanged, or ValueError naming ``name`` when it has no UTC offset: a naive
    datetime has no instant, so comparing it would silently depend on the host's zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a UTC offset), got {value!r}")
    return value


def as_utc(value: datetime, name: str) -> datetime:
    """The same instant in UTC, where adding a duration adds exactly that much time (a
    timedelta added to a zoned datetime moves the wall clock: "7 days" across a change to
    summer time would last 6 days and 23 hours)."""
    return require_aware(value, name).astimezone(UTC)
