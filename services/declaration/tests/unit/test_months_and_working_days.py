"""Calendar months (K16.6) and the working days of a zone (K18, K19)."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos_declaration.domain.errors import DeclarationRejected, FieldProblem
from kairos_declaration.domain.months import Month
from kairos_declaration.domain.working_days import is_working_day, nth_working_day, working_days
from kairos_shared.zones import Zone


@pytest.mark.parametrize(
    ("month", "last_day"),
    [
        (Month(2024, 2), date(2024, 2, 29)),
        (Month(2025, 2), date(2025, 2, 28)),
        (Month(2000, 2), date(2000, 2, 29)),
        (Month(2100, 2), date(2100, 2, 28)),
        (Month(2025, 4), date(2025, 4, 30)),
        (Month(2025, 12), date(2025, 12, 31)),
    ],
)
def test_a_month_runs_from_its_first_to_its_last_day(month: Month, last_day: date) -> None:
    assert month.first_day == last_day.replace(day=1)
    assert month.last_day == last_day
    assert Month.of(last_day) == month


def test_months_are_written_and_read_as_year_dash_month() -> None:
    assert Month.parse("2024-02") == Month(2024, 2)
    assert Month.parse(" 2025-12 ") == Month(2025, 12)
    assert str(Month(2025, 3)) == "2025-03"
    assert str(Month(999, 1)) == "0999-01"


@pytest.mark.parametrize(
    "text", ["2025-13", "2025-00", "2025-3", "25-03", "0000-01", "2025/03", ""]
)
def test_a_malformed_month_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(DeclarationRejected) as refused:
        Month.parse(text, field="rows[0].month")
    assert refused.value.problems == (
        FieldProblem(
            "rows[0].month", f"a month is written YYYY-MM (e.g. 2025-03); {text!r} is not"
        ),
    )


def test_a_month_number_out_of_range_cannot_exist() -> None:
    with pytest.raises(ValueError, match="1 to 12"):
        Month(2025, 13)
    with pytest.raises(ValueError, match="outside the calendar"):
        Month(0, 1)


def test_the_month_after_december_is_january() -> None:
    assert Month(2025, 12).next() == Month(2026, 1)
    assert Month(2024, 1).next() == Month(2024, 2)
    assert Month(2024, 12) < Month(2025, 1) < Month(2025, 2)


def test_a_month_overlaps_a_span_that_shares_a_day_with_it() -> None:
    march = Month(2025, 3)
    assert march.overlaps(date(2025, 3, 31), date(2025, 5, 1))
    assert march.overlaps(date(2025, 1, 1), date(2025, 3, 1))
    assert not march.overlaps(date(2025, 4, 1), date(2025, 5, 1))
    assert not march.overlaps(date(2025, 1, 1), date(2025, 2, 28))


@pytest.mark.parametrize(
    ("day", "zone", "working"),
    [
        (date(2025, 12, 26), Zone.METROPOLITAN, True),
        (date(2025, 12, 26), Zone.ALSACE_MOSELLE, False),  # Saint-Étienne
        (date(2026, 4, 3), Zone.ALSACE_MOSELLE, False),  # Good Friday
        (date(2026, 4, 3), Zone.GUADELOUPE, False),
        (date(2026, 4, 3), Zone.MARTINIQUE, True),
        (date(2025, 5, 27), Zone.GUADELOUPE, False),  # abolition of slavery
        (date(2025, 12, 20), Zone.LA_REUNION, False),  # a Saturday anyway
        (date(2025, 12, 25), Zone.METROPOLITAN, False),
        (date(2025, 3, 8), Zone.METROPOLITAN, False),  # Saturday
        (date(2025, 3, 9), Zone.METROPOLITAN, False),  # Sunday
        (date(2025, 3, 10), Zone.METROPOLITAN, True),
    ],
)
def test_working_days_are_weekdays_less_the_zones_holidays(
    day: date, zone: Zone, working: bool
) -> None:
    assert is_working_day(day, zone) is working


def test_working_days_are_counted_inclusively() -> None:
    assert working_days(date(2025, 12, 1), date(2025, 12, 31), Zone.METROPOLITAN) == 22
    assert working_days(date(2025, 12, 1), date(2025, 12, 31), Zone.ALSACE_MOSELLE) == 21
    assert working_days(date(2024, 2, 1), date(2024, 2, 29), Zone.METROPOLITAN) == 21
    assert working_days(date(2025, 3, 10), date(2025, 3, 10), Zone.METROPOLITAN) == 1
    assert working_days(date(2025, 3, 11), date(2025, 3, 10), Zone.METROPOLITAN) == 0


def test_the_nth_working_day_counts_from_one() -> None:
    assert nth_working_day(Month(2026, 1), 1, Zone.METROPOLITAN) == date(2026, 1, 2)
    with pytest.raises(ValueError, match="from 1"):
        nth_working_day(Month(2026, 1), 0, Zone.METROPOLITAN)


@given(
    st.builds(Month, st.integers(2000, 2060), st.integers(1, 12)),
    st.integers(1, 25),
    st.sampled_from(Zone),
)
def test_the_nth_working_day_is_a_working_day_with_n_working_days_up_to_it(
    month: Month, n: int, zone: Zone
) -> None:
    day = nth_working_day(month, n, zone)
    assert is_working_day(day, zone)
    assert working_days(month.first_day, day, zone) == n
    assert working_days(month.first_day, day - timedelta(days=1), zone) == n - 1
