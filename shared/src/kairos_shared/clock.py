"""Time, injected: every deadline (21 days, 7 days, 3 months, 3 years, reviews, attendance)
reads a :class:`Clock`, so tests move time instead of waiting for it."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """The system clock moved by the offset written in a file: every service of a local stack
    given the same file travels in time together (``make demo`` lets 21 days pass this way).

    For development and demonstrations only: production leaves ``KAIROS_CLOCK_OFFSET_FILE``
    unset. The file holds a number of seconds (``1814400`` is 21 days); no file is no offset. It is
    read at every reading of the clock (a few microseconds: correct whatever the file system's
    timestamp resolution); a file that cannot be read as a number keeps the last offset read.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()

    def offset(self) -> timedelta:
        try:
            self._offset = timedelta(seconds=float(self.path.read_text(encoding="ascii")))
        except FileNotFoundError:
            self._offset = timedelta(0)
        except (OSError, ValueError, OverflowError):
            pass  # unreadable or not a number: keep the last offset read
        return self._offset


def write_offset(path: Path, offset: timedelta) -> None:
    """Set the offset an :class:`OffsetClock` reads, atomically (a reader never sees half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="ascii") as file:
        file.write(f"{offset.total_seconds():.6f}")
    Path(temporary).replace(path)


def system_clock(offset_file: Path | None = None) -> Clock:
    """The clock a service runs on: the system's, or moved by ``offset_file`` (development)."""
    return SystemClock() if offset_file is None else OffsetClock(offset_file)


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
