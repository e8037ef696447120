"""The injectable clock: aware UTC instants, moved only forwards by tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from kairos_shared.clock import ManualClock, SystemClock


def test_system_clock_is_aware_utc() -> None:
    assert SystemClock().now().tzinfo is UTC


def test_manual_clock_moves_only_when_told_and_only_forwards() -> None:
    paris_winter = timezone(timedelta(hours=1))
    clock = ManualClock(datetime(2026, 1, 5, 8, 0, tzinfo=paris_winter))
    assert clock.now() == datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    assert clock.advance(timedelta(days=21)) == datetime(2026, 1, 26, 7, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 1, 1))  # noqa: DTZ001 - the naive instant is the point
