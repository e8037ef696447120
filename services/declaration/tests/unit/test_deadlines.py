"""K18: entries, interruptions and exits are due 3 days after the event; attendance by the 5th
working day of the next month in the OF's zone; a due day on which the zone is closed moves to
its next open day; late means after the due day, local time."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos_declaration.domain.deadlines import (
    DeadlinePolicy,
    due_by,
    is_late,
    local_date,
)
from kairos_declaration.domain.declarations import (
    Attendance,
    Correspondent,
    Declaration,
    Entry,
    Exit,
    ExitKind,
    ExitReason,
    InformationMeetingResult,
    InformationMeetings,
    Interruption,
    Kind,
    Meeting,
    MeetingKind,
    MeetingResult,
)
from kairos_declaration.domain.months import Month
from kairos_declaration.domain.working_days import is_working_day, working_days
from kairos_shared.access_hours import AccessCalendar, Closure, OpeningRules
from kairos_shared.zones import Zone

TRAINEE = "1234567A"
POLICY = DeadlinePolicy()
NOW = datetime(2025, 3, 3, 9, tzinfo=UTC)
PARIS = Zone.METROPOLITAN
K4 = AccessCalendar(OpeningRules())


def due(
    declaration: Declaration,
    zone: Zone = PARIS,
    policy: DeadlinePolicy = POLICY,
    calendar: AccessCalendar = K4,
) -> date:
    return due_by(declaration.kind, declaration, zone, policy, calendar=calendar, declared_at=NOW)


def events(day: date) -> tuple[Declaration, ...]:
    """An entry, an interruption and an exit, all on `day`."""
    return (
        Entry(TRAINEE, day),
        Interruption(day, day + timedelta(days=20), "travaux"),
        Exit(TRAINEE, day, ExitKind.ABANDONMENT, ExitReason.HEALTH),
    )


def attendance(year: int, month: int) -> Attendance:
    return Attendance(TRAINEE, Month(year, month), Decimal(35), Decimal(0), Decimal(0))


@pytest.mark.parametrize(
    ("event", "due_day"),
    [
        (date(2025, 3, 3), date(2025, 3, 6)),  # a Monday: due the Thursday
        (date(2024, 2, 27), date(2024, 3, 1)),  # over 29 February
        (date(2025, 12, 30), date(2026, 1, 2)),  # over New Year's Day, due the Friday
        (date(2025, 3, 7), date(2025, 3, 10)),  # a Friday: calendar days, due the Monday
    ],
)
def test_events_are_due_three_calendar_days_later(event: date, due_day: date) -> None:
    for declaration in events(event):
        assert due(declaration) == due_day


@pytest.mark.parametrize(
    ("event", "due_day"),
    [
        (date(2025, 3, 5), date(2025, 3, 10)),  # a Wednesday: 3 days is the Saturday
        (date(2025, 3, 6), date(2025, 3, 10)),  # a Thursday: 3 days is the Sunday
        (date(2025, 1, 30), date(2025, 2, 3)),  # a Thursday over a month's end
        (date(2025, 2, 27), date(2025, 3, 3)),  # a Thursday: Sunday 2 March
    ],
)
def test_a_due_day_on_a_weekend_moves_to_the_monday(event: date, due_day: date) -> None:
    for zone in Zone:
        for declaration in events(event):
            assert due(declaration, zone) == due_day


def test_the_friday_before_easter_monday_is_due_the_tuesday() -> None:
    good_friday = date(2026, 4, 3)  # 3 days later is Easter Monday, 6 April
    for declaration in events(good_friday):
        assert due(declaration) == date(2026, 4, 7)


def test_26_december_moves_an_event_deadline_in_alsace_moselle_only() -> None:
    tuesday = date(2025, 12, 23)  # 3 days later: Friday 26 December
    for declaration in events(tuesday):
        assert due(declaration, Zone.METROPOLITAN) == date(2025, 12, 26)
        assert due(declaration, Zone.ALSACE_MOSELLE) == date(2025, 12, 29)  # the Monday


@pytest.mark.parametrize(
    ("zone", "event", "due_day"),
    [
        (Zone.LA_REUNION, date(2024, 12, 17), date(2024, 12, 23)),  # Fri. 20 Dec., then a weekend
        (Zone.MARTINIQUE, date(2025, 5, 19), date(2025, 5, 23)),  # Thursday 22 May
        (Zone.GUADELOUPE, date(2025, 5, 24), date(2025, 5, 28)),  # Tuesday 27 May
        (Zone.MAYOTTE, date(2026, 4, 24), date(2026, 4, 28)),  # Monday 27 April
        (Zone.GUYANE, date(2025, 6, 7), date(2025, 6, 11)),  # Tuesday 10 June
    ],
)
def test_an_overseas_zones_own_holiday_moves_its_deadline(
    zone: Zone, event: date, due_day: date
) -> None:
    holiday = event + timedelta(days=3)
    assert not K4.is_open_day(holiday, zone)
    assert K4.is_open_day(holiday, Zone.METROPOLITAN)
    for declaration in events(event):
        assert due(declaration, zone) == due_day
        assert due(declaration, Zone.METROPOLITAN) == holiday


def test_a_configured_closure_of_the_whole_day_moves_the_deadline_and_a_shorter_one_does_not() -> (
    None
):
    paris = PARIS.time_zone
    whole_day = Closure(
        datetime(2025, 3, 6, 7, 0, tzinfo=paris), datetime(2025, 3, 6, 20, 0, tzinfo=paris),
        "maintenance",
    )  # fmt: skip
    morning = Closure(
        datetime(2025, 3, 6, 7, 0, tzinfo=paris), datetime(2025, 3, 6, 12, 0, tzinfo=paris),
        "maintenance",
    )  # fmt: skip
    elsewhere = Closure(whole_day.starts_at, whole_day.ends_at, "panne", frozenset({Zone.MAYOTTE}))
    monday = Entry(TRAINEE, date(2025, 3, 3))
    assert due(monday, calendar=AccessCalendar(OpeningRules(closures=(whole_day,)))) == date(
        2025, 3, 7
    )
    assert due(monday, calendar=AccessCalendar(OpeningRules(closures=(morning,)))) == date(
        2025, 3, 6
    )
    assert due(monday, calendar=AccessCalendar(OpeningRules(closures=(elsewhere,)))) == date(
        2025, 3, 6
    )


def test_chained_closures_covering_a_day_close_it() -> None:
    paris = PARIS.time_zone
    first = Closure(
        datetime(2025, 3, 6, 7, 30, tzinfo=paris), datetime(2025, 3, 6, 13, 0, tzinfo=paris), "a"
    )
    second = Closure(
        datetime(2025, 3, 6, 13, 0, tzinfo=paris), datetime(2025, 3, 6, 19, 0, tzinfo=paris), "b"
    )
    calendar = AccessCalendar(OpeningRules(closures=(second, first)))
    assert not calendar.is_open_day(date(2025, 3, 6), PARIS)
    assert calendar.is_open_day(date(2025, 3, 7), PARIS)
    assert calendar.next_open_day(date(2025, 3, 6), PARIS) == date(2025, 3, 7)


def test_the_attendance_deadline_moves_off_a_closed_working_day() -> None:
    paris = PARIS.time_zone
    fifth = date(2025, 4, 7)  # the 5th working day of April 2025, a Monday
    closed = Closure(
        datetime.combine(fifth, time(0), paris), datetime.combine(fifth, time(23), paris), "m"
    )
    calendar = AccessCalendar(OpeningRules(closures=(closed,)))
    assert due(attendance(2025, 3)) == fifth
    assert due(attendance(2025, 3), calendar=calendar) == date(2025, 4, 8)


def test_the_number_of_days_is_configuration() -> None:
    monday = Entry(TRAINEE, date(2025, 3, 3))
    assert due(monday, policy=DeadlinePolicy(event_days=4)) == date(2025, 3, 7)
    assert due(monday, policy=DeadlinePolicy(event_days=5)) == date(2025, 3, 10)  # not Saturday
    assert due(monday, policy=DeadlinePolicy(event_days=0)) == date(2025, 3, 3)


@pytest.mark.parametrize(
    ("month", "zone", "due_day"),
    [
        (Month(2025, 3), Zone.METROPOLITAN, date(2025, 4, 7)),
        (Month(2025, 12), Zone.METROPOLITAN, date(2026, 1, 8)),  # 1 January is a holiday
        (Month(2024, 2), Zone.METROPOLITAN, date(2024, 3, 7)),
        (Month(2026, 3), Zone.METROPOLITAN, date(2026, 4, 8)),  # Easter Monday, 6 April
        (Month(2026, 3), Zone.ALSACE_MOSELLE, date(2026, 4, 9)),  # and Good Friday, 3 April
        (Month(2026, 3), Zone.GUADELOUPE, date(2026, 4, 9)),  # Good Friday too
        (Month(2026, 3), Zone.MARTINIQUE, date(2026, 4, 8)),
    ],
)
def test_attendance_is_due_by_the_fifth_working_day_of_the_next_month_in_the_zone(
    month: Month, zone: Zone, due_day: date
) -> None:
    assert due(attendance(month.year, month.month), zone) == due_day


def test_26_december_moves_a_later_working_day_deadline_in_alsace_moselle() -> None:
    policy = DeadlinePolicy(attendance_working_day=19)
    november = attendance(2025, 11)
    assert due(november, Zone.METROPOLITAN, policy) == date(2025, 12, 26)
    assert due(november, Zone.ALSACE_MOSELLE, policy) == date(2025, 12, 29)


def test_a_slavery_abolition_day_moves_an_overseas_deadline() -> None:
    late_april = DeadlinePolicy(attendance_working_day=18)
    assert due(attendance(2026, 3), Zone.METROPOLITAN, late_april) == date(2026, 4, 27)
    assert due(attendance(2026, 3), Zone.MAYOTTE, late_april) == date(2026, 4, 28)
    late_may = DeadlinePolicy(attendance_working_day=17)
    assert due(attendance(2025, 4), Zone.METROPOLITAN, late_may) == date(2025, 5, 27)
    assert due(attendance(2025, 4), Zone.GUADELOUPE, late_may) == date(2025, 5, 28)


def test_kinds_without_a_sourced_deadline_are_due_the_day_they_are_declared() -> None:
    at_nine = datetime(2025, 3, 6, 9, tzinfo=UTC)
    late_evening = datetime(2025, 3, 6, 21, 30, tzinfo=UTC)  # 7 March, 01:30 in La Réunion
    for declaration in (
        Correspondent("Ada", "Lovelace", "ada@of.example.fr", "0123456789"),
        InformationMeetings((Meeting("m1", MeetingKind.COLLECTIVE, at_nine, "Salle A"),)),
        InformationMeetingResult(TRAINEE, MeetingResult.WAITING_LIST),
    ):
        for zone, instant, day in (
            (PARIS, at_nine, date(2025, 3, 6)),
            (Zone.LA_REUNION, late_evening, date(2025, 3, 7)),
        ):
            due_day = due_by(
                declaration.kind, declaration, zone, POLICY, calendar=K4, declared_at=instant
            )
            assert due_day == day
            assert not is_late(due_day, instant, zone)


def test_the_kind_must_be_the_declarations_own() -> None:
    with pytest.raises(ValueError, match="a entry declaration was given as a exit one"):
        due_by(
            Kind.EXIT, Entry(TRAINEE, date(2025, 3, 3)), PARIS, POLICY, calendar=K4, declared_at=NOW
        )


@pytest.mark.parametrize(
    ("declared_at", "zone", "late"),
    [
        (datetime(2025, 3, 6, 22, 59, tzinfo=UTC), Zone.METROPOLITAN, False),  # 23:59 Paris
        (datetime(2025, 3, 6, 23, 0, tzinfo=UTC), Zone.METROPOLITAN, True),  # 00:00 on the 7th
        (datetime(2025, 3, 6, 19, 59, tzinfo=UTC), Zone.LA_REUNION, False),  # 23:59 at UTC+4
        (datetime(2025, 3, 6, 20, 0, tzinfo=UTC), Zone.LA_REUNION, True),
        (datetime(2025, 3, 7, 3, 59, tzinfo=UTC), Zone.GUADELOUPE, False),  # 23:59 at UTC-4
        (datetime(2025, 3, 7, 4, 0, tzinfo=UTC), Zone.GUADELOUPE, True),
        (datetime(2025, 3, 1, 8, 0, tzinfo=UTC), Zone.METROPOLITAN, False),  # early is on time
    ],
)
def test_late_means_after_the_due_day_in_the_zones_local_time(
    declared_at: datetime, zone: Zone, late: bool
) -> None:
    assert is_late(date(2025, 3, 6), declared_at, zone) is late


def test_summer_time_is_read_in_the_zone() -> None:
    assert not is_late(date(2025, 7, 1), datetime(2025, 7, 1, 21, 59, tzinfo=UTC), PARIS)
    assert is_late(date(2025, 7, 1), datetime(2025, 7, 1, 22, 0, tzinfo=UTC), PARIS)


def test_naive_instants_are_refused() -> None:
    naive = datetime(2025, 3, 6, 12)  # noqa: DTZ001  # the naive input under test
    with pytest.raises(ValueError, match="aware"):
        is_late(date(2025, 3, 6), naive, PARIS)
    with pytest.raises(ValueError, match="aware"):
        local_date(naive, PARIS)
    entry = Entry(TRAINEE, date(2025, 3, 3))
    with pytest.raises(ValueError, match="declared_at must be an aware datetime"):
        due_by(Kind.ENTRY, entry, PARIS, POLICY, calendar=K4, declared_at=naive)


@pytest.mark.parametrize(("event_days", "working_day"), [(-1, 5), (3, 0)])
def test_a_policy_counts_days_from_zero_and_working_days_from_one(
    event_days: int, working_day: int
) -> None:
    with pytest.raises(ValueError, match=r"counts from 1|cannot be negative"):
        DeadlinePolicy(event_days=event_days, attendance_working_day=working_day)


@given(st.dates(date(2000, 1, 1), date(2099, 12, 31)), st.integers(0, 60), st.sampled_from(Zone))
def test_an_event_is_due_on_the_first_open_day_from_its_days_after(
    event: date, days: int, zone: Zone
) -> None:
    policy = DeadlinePolicy(event_days=days)
    due_day = due(Entry(TRAINEE, event), zone, policy=policy)
    assert due_day >= event + timedelta(days=days)
    assert is_working_day(due_day, zone)
    closed = range((due_day - event).days - days)
    assert not any(is_working_day(event + timedelta(days=days + n), zone) for n in closed)


@given(
    st.integers(2000, 2060),
    st.integers(1, 12),
    st.integers(1, 15),
    st.sampled_from(Zone),
)
def test_the_attendance_deadline_is_the_nth_working_day_after_the_month(
    year: int, month: int, n: int, zone: Zone
) -> None:
    statement = attendance(year, month)
    due_day = due(statement, zone, DeadlinePolicy(attendance_working_day=n))
    following = statement.month.next()
    assert due_day > statement.month.last_day
    assert Month.of(due_day) == following
    assert is_working_day(due_day, zone)
    assert K4.is_open_day(due_day, zone)
    assert working_days(following.first_day, due_day, zone) == n
