"""K13: an absence of more than 3 calendar months ends the habilitation by itself."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos_habilitation.domain.absences import (
    Absence,
    InvalidAbsenceError,
    absence_reaches_three_months,
    date_absence_reaches_three_months,
)
from kairos_habilitation.domain.calendar_months import add_months

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("starts_on", "limit"),
    [
        (date(2025, 1, 10), date(2025, 4, 10)),
        (date(2025, 1, 31), date(2025, 4, 30)),
        (date(2025, 3, 31), date(2025, 6, 30)),
        (date(2023, 11, 30), date(2024, 2, 29)),
        (date(2024, 11, 30), date(2025, 2, 28)),
        (date(2024, 2, 29), date(2024, 5, 29)),
        (date(2025, 10, 15), date(2026, 1, 15)),
        (date(2025, 12, 31), date(2026, 3, 31)),
    ],
)
def test_the_limit_is_three_months_later_clamped_to_the_month_end(
    starts_on: date, limit: date
) -> None:
    assert date_absence_reaches_three_months(starts_on) == limit


def test_an_open_absence_reaches_the_limit_on_the_limit_day_not_before() -> None:
    absence = Absence(date(2025, 1, 31))
    assert not absence_reaches_three_months(absence, date(2025, 4, 29))
    assert absence_reaches_three_months(absence, date(2025, 4, 30))
    assert absence_reaches_three_months(absence, date(2025, 9, 1))


def test_an_absence_still_running_on_the_limit_day_reaches_it() -> None:
    absence = Absence(date(2025, 1, 10), ends_on=date(2025, 4, 10))
    assert absence_reaches_three_months(absence, date(2025, 4, 10))


def test_an_absence_of_exactly_three_months_does_not_reach_it() -> None:
    absence = Absence(date(2025, 1, 10), ends_on=date(2025, 4, 9))
    assert not absence_reaches_three_months(absence, date(2025, 4, 10))
    assert not absence_reaches_three_months(absence, date(2026, 1, 1))


def test_an_absence_cannot_end_before_it_starts() -> None:
    with pytest.raises(InvalidAbsenceError, match="before it starts"):
        Absence(date(2025, 1, 10), ends_on=date(2025, 1, 9))
    assert Absence(date(2025, 1, 10), ends_on=date(2025, 1, 10)).ends_on == date(2025, 1, 10)


def test_months_are_added_across_years_and_backwards() -> None:
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 48) == date(2028, 2, 29)
    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)


days = st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31))


@given(days)
def test_the_limit_is_always_89_to_92_days_after_the_start(starts_on: date) -> None:
    limit = date_absence_reaches_three_months(starts_on)
    assert limit > starts_on
    assert 89 <= (limit - starts_on).days <= 92


@given(days, st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=200))
def test_reaching_the_limit_means_absent_on_the_limit_day(
    starts_on: date, length: int, looked_after: int
) -> None:
    absence = Absence(starts_on, ends_on=starts_on + length * DAY)
    today = starts_on + looked_after * DAY
    limit = date_absence_reaches_three_months(starts_on)
    expected = today >= limit and starts_on + length * DAY >= limit
    assert absence_reaches_three_months(absence, today) is expected
