"""K19: monthly attendance only inside the entry-exit span, once a month, in quarters of an
hour, and never above what the month allows (weekly hours x working days / 5)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos_declaration.domain.allowance import monthly_allowance
from kairos_declaration.domain.consistency import check_attendance
from kairos_declaration.domain.declarations import Attendance, Entry, Exit, ExitKind, ExitReason
from kairos_declaration.domain.errors import DeclarationRejected, FieldProblem
from kairos_declaration.domain.history import LiveDeclaration, TraineeHistory, TrainingSpan
from kairos_declaration.domain.months import Month
from kairos_declaration.domain.sessions import TrainingSession, training_session
from kairos_shared.zones import Zone

TRAINEE = "1234567A"
SESSION = training_session("14_AF_1", "14_SE_1", date(2025, 3, 3), date(2025, 6, 27), 35)
TODAY = date(2025, 7, 15)
PARIS = Zone.METROPOLITAN


def entered(on: date, *, left_on: date | None = None) -> TraineeHistory:
    live = [LiveDeclaration("entry-1", Entry(TRAINEE, on))]
    if left_on is not None:
        exit_ = Exit(TRAINEE, left_on, ExitKind.ABANDONMENT, ExitReason.HEALTH)
        live.append(LiveDeclaration("exit-1", exit_))
    return TraineeHistory(tuple(live))


ENTERED = entered(date(2025, 3, 3))


def statement(
    month: str, attended: str, justified: str = "0", unjustified: str = "0"
) -> Attendance:
    return Attendance(
        TRAINEE, Month.parse(month), Decimal(attended), Decimal(justified), Decimal(unjustified)
    )


def problems(
    history: TraineeHistory,
    attendance: Attendance,
    *,
    session: TrainingSession = SESSION,
    today: date = TODAY,
    zone: Zone = PARIS,
) -> tuple[FieldProblem, ...]:
    with pytest.raises(DeclarationRejected) as refused:
        check_attendance(session, history, attendance, today, zone)
    return refused.value.problems


def over(month: str, total: str, allowed: str, weekly: str, days: int) -> FieldProblem:
    return FieldProblem(
        "attended_hours",
        f"attended and absence hours add up to {total} but {month} allows at most {allowed} "
        f"({weekly} h a week over {days} working days in training)",
    )


def test_a_full_month_may_use_exactly_what_it_allows() -> None:
    check_attendance(SESSION, ENTERED, statement("2025-03", "140", "4.5", "2.5"), TODAY, PARIS)
    assert problems(ENTERED, statement("2025-03", "140", "4.5", "2.75")) == (
        over("2025-03", "147.25", "147", "35", 21),
    )


def test_a_partial_month_allows_only_the_days_in_training() -> None:
    history = entered(date(2025, 3, 19))
    check_attendance(SESSION, history, statement("2025-03", "63"), TODAY, PARIS)
    assert problems(history, statement("2025-03", "63.25")) == (
        over("2025-03", "63.25", "63", "35", 9),
    )
    left = entered(date(2025, 3, 3), left_on=date(2025, 5, 16))
    assert problems(left, statement("2025-05", "70.25")) == (
        over("2025-05", "70.25", "70", "35", 10),
    )


def test_public_holidays_reduce_what_a_month_allows() -> None:
    assert problems(ENTERED, statement("2025-05", "133.25")) == (
        over("2025-05", "133.25", "133", "35", 19),
    )


def test_26_december_in_alsace_moselle_allows_a_day_less() -> None:
    session = training_session("A", "S", date(2025, 9, 1), date(2026, 1, 30), 35)
    history = entered(date(2025, 9, 1))
    december = statement("2025-12", "154")
    check_attendance(session, history, december, date(2026, 1, 5), Zone.METROPOLITAN)
    assert problems(
        history, december, session=session, today=date(2026, 1, 5), zone=Zone.ALSACE_MOSELLE
    ) == (over("2025-12", "154", "147", "35", 21),)


def test_february_allows_a_day_more_in_a_leap_year() -> None:
    leap = training_session("A", "S", date(2024, 1, 8), date(2024, 6, 28), 35)
    check_attendance(leap, entered(date(2024, 1, 8)), statement("2024-02", "147"), TODAY, PARIS)
    common = training_session("A", "S", date(2025, 1, 6), date(2025, 6, 27), 35)
    assert problems(entered(date(2025, 1, 6)), statement("2025-02", "147"), session=common) == (
        over("2025-02", "147", "140", "35", 20),
    )


def test_weekly_hours_in_quarters_give_an_exact_allowance() -> None:
    session = training_session("A", "S", date(2025, 3, 3), date(2025, 6, 27), 17.5)
    check_attendance(session, ENTERED, statement("2025-03", "73.5"), TODAY, PARIS)
    assert problems(ENTERED, statement("2025-03", "73.75"), session=session) == (
        over("2025-03", "73.75", "73.5", "17.5", 21),
    )


def test_attendance_without_an_entry_is_refused() -> None:
    assert problems(TraineeHistory(), statement("2025-03", "10")) == (
        FieldProblem(
            "trainee_id",
            "no entry of this trainee in this session is declared: declare the entry before "
            "attendance",
        ),
    )


@pytest.mark.parametrize(
    ("history", "month", "span"),
    [
        (entered(date(2025, 3, 10)), "2025-02", "2025-03-10 to 2025-06-27"),
        (entered(date(2025, 3, 10)), "2025-07", "2025-03-10 to 2025-06-27"),
        (
            entered(date(2025, 3, 10), left_on=date(2025, 4, 30)),
            "2025-05",
            "2025-03-10 to 2025-04-30",
        ),
    ],
)
def test_attendance_outside_the_entry_exit_span_is_refused(
    history: TraineeHistory, month: str, span: str
) -> None:
    assert problems(history, statement(month, "0")) == (
        FieldProblem("month", f"{month} is outside the trainee's time in training ({span})"),
    )


def test_the_months_at_both_ends_of_the_span_may_be_declared() -> None:
    history = entered(date(2025, 3, 31), left_on=date(2025, 5, 1))
    check_attendance(SESSION, history, statement("2025-03", "7"), TODAY, PARIS)
    check_attendance(SESSION, history, statement("2025-05", "0"), TODAY, PARIS)


def test_the_current_month_may_be_declared_not_a_later_one() -> None:
    check_attendance(SESSION, ENTERED, statement("2025-04", "35"), date(2025, 4, 1), PARIS)
    assert problems(ENTERED, statement("2025-05", "35"), today=date(2025, 4, 30)) == (
        FieldProblem(
            "month", "2025-05 has not begun (today is 2025-04-30): the current month at the latest"
        ),
    )


def test_a_second_statement_for_a_month_is_a_correction_not_a_declaration() -> None:
    history = TraineeHistory(
        (*ENTERED.declarations, LiveDeclaration("march-1", statement("2025-03", "100")))
    )
    assert problems(history, statement("2025-03", "110")) == (
        FieldProblem(
            "month",
            "attendance for 2025-03 is declared already: correct that statement rather than "
            "declare another",
        ),
    )
    check_attendance(SESSION, history.without("march-1"), statement("2025-03", "110"), TODAY, PARIS)
    check_attendance(SESSION, history, statement("2025-04", "110"), TODAY, PARIS)


def test_every_bad_hours_field_is_named_at_once() -> None:
    attendance = statement("2025-03", "7.1", "-1", "NaN")
    assert problems(ENTERED, attendance) == (
        FieldProblem(
            "attended_hours",
            "hours are counted in quarters of an hour (e.g. 7.25, 7.5, 7.75); got 7.1",
        ),
        FieldProblem("justified_absence_hours", "hours cannot be negative; got -1"),
        FieldProblem("unjustified_absence_hours", "a number of hours is expected; got NaN"),
    )
    assert problems(ENTERED, statement("2025-03", "745")) == (
        FieldProblem("attended_hours", "a month has at most 744 hours; got 745"),
    )


def test_the_trainee_and_the_month_are_both_reported() -> None:
    found = problems(
        TraineeHistory(), Attendance("12", Month(2025, 8), Decimal(0), Decimal(0), Decimal(0))
    )
    assert [problem.field for problem in found] == ["trainee_id", "trainee_id", "month"]


sessions = st.builds(
    lambda start, length, quarters: training_session(
        "A", "S", start, start + timedelta(days=length), Decimal(quarters) / 4
    ),
    st.dates(date(2020, 1, 1), date(2035, 12, 31)),
    st.integers(0, 400),
    st.integers(1, 240),
)


@given(sessions, st.integers(0, 400), st.integers(0, 14), st.sampled_from(Zone))
def test_a_month_never_allows_more_than_23_working_days(
    session: TrainingSession, entry_offset: int, month_offset: int, zone: Zone
) -> None:
    entered_on = min(session.starts_on + timedelta(days=entry_offset), session.ends_on)
    span = TrainingSpan(entered_on, session.ends_on)
    month = Month.of(entered_on)
    for _ in range(month_offset):
        month = month.next()
    allowance = monthly_allowance(session, span, month, zone)
    assert 0 <= allowance.working_days <= 23
    assert allowance.hours == session.weekly_hours * allowance.working_days / 5
    assert allowance.hours <= session.weekly_hours * 23 / 5
    if not month.overlaps(span.first_day, span.last_day):
        assert allowance.hours == 0


@given(sessions, st.integers(0, 400), st.sampled_from(Zone))
def test_a_statement_of_no_hours_in_the_entry_month_is_always_accepted(
    session: TrainingSession, entry_offset: int, zone: Zone
) -> None:
    entered_on = min(session.starts_on + timedelta(days=entry_offset), session.ends_on)
    history = entered(entered_on)
    zero = Attendance(TRAINEE, Month.of(entered_on), Decimal(0), Decimal(0), Decimal(0))
    check_attendance(session, history, zero, session.ends_on, zone)
