"""The injectable clock: aware UTC instants, moved only forwards by tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from kairos_shared.clock import ManualClock, OffsetClock, SystemClock, system_clock, write_offset


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


def test_an_offset_clock_follows_its_file_and_keeps_the_last_good_offset(tmp_path: Path) -> None:
    offset_file = tmp_path / "clock-offset"
    clock = OffsetClock(offset_file)
    assert clock.offset() == timedelta(0)  # no file: the system's time
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)

    write_offset(offset_file, timedelta(days=21))
    other_reader = OffsetClock(offset_file)  # another service of the stack
    for reader in (clock, other_reader):
        assert reader.offset() == timedelta(days=21)
        assert abs(reader.now() - datetime.now(UTC) - timedelta(days=21)) < timedelta(seconds=5)

    offset_file.write_text("not a number", encoding="ascii")
    assert clock.offset() == timedelta(days=21)  # never moved by a bad or half-written file
    write_offset(offset_file, timedelta(days=42, seconds=1.5))
    assert clock.offset() == timedelta(days=42, seconds=1.5)
    assert list(tmp_path.iterdir()) == [offset_file]  # written atomically, no leftovers


def test_a_service_runs_on_the_system_clock_unless_given_an_offset_file(tmp_path: Path) -> None:
    assert isinstance(system_clock(None), SystemClock)
    moved = system_clock(tmp_path / "offset")
    assert isinstance(moved, OffsetClock)
    assert moved.path == tmp_path / "offset"
