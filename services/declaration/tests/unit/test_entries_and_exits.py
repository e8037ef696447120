"""K19: one entry per trainee and session, within its dates; no exit before the entry; an exit's
reason fits its kind; corrections are checked without the version they replace (K20)."""

from datetime import date
from decimal import Decimal

import pytest

from kairos_declaration.domain.consistency import check_entry, check_exit
from kairos_declaration.domain.declarations import Attendance, Entry, Exit, ExitKind, ExitReason
from kairos_declaration.domain.errors import DeclarationRejected, FieldProblem
from kairos_declaration.domain.history import LiveDeclaration, TraineeHistory
from kairos_declaration.domain.months import Month
from kairos_declaration.domain.sessions import training_session

TRAINEE = "1234567A"
SESSION = training_session("14_AF_1", "14_SE_1", date(2025, 3, 3), date(2025, 6, 27), 35)
TODAY = date(2025, 7, 15)
ENTRY = Entry(TRAINEE, date(2025, 3, 10))
ENTERED = TraineeHistory((LiveDeclaration("entry-1", ENTRY),))
NOTHING = TraineeHistory()


def leaving(
    on: date,
    kind: ExitKind = ExitKind.ABANDONMENT,
    reason: ExitReason = ExitReason.EMPLOYMENT,
) -> Exit:
    return Exit(TRAINEE, on, kind, reason)


def statement(month: Month) -> Attendance:
    return Attendance(TRAINEE, month, Decimal(35), Decimal(0), Decimal(0))


def problems(check: object, *arguments: object) -> tuple[FieldProblem, ...]:
    assert callable(check)
    with pytest.raises(DeclarationRejected) as refused:
        check(*arguments)
    return refused.value.problems


def test_an_entry_within_the_session_up_to_today_is_accepted() -> None:
    check_entry(SESSION, NOTHING, Entry(TRAINEE, date(2025, 3, 3), "France Travail"), TODAY)
    check_entry(SESSION, NOTHING, Entry(TRAINEE, date(2025, 6, 27)), TODAY)
    check_entry(SESSION, NOTHING, Entry(TRAINEE, date(2025, 3, 10)), date(2025, 3, 10))


def test_a_second_entry_for_the_same_trainee_and_session_is_refused() -> None:
    assert problems(check_entry, SESSION, ENTERED, Entry(TRAINEE, date(2025, 3, 12)), TODAY) == (
        FieldProblem(
            "trainee_id",
            "an entry of this trainee in this session exists already (entered on 2025-03-10): "
            "correct it rather than declare another",
        ),
    )


def test_a_correction_of_the_entry_is_checked_without_the_version_it_replaces() -> None:
    check_entry(SESSION, ENTERED.without("entry-1"), Entry(TRAINEE, date(2025, 3, 12)), TODAY)


@pytest.mark.parametrize(
    ("entered_on", "today", "messages"),
    [
        (date(2025, 3, 2), TODAY, ["2025-03-02 is outside the session (2025-03-03 to 2025-06-27)"]),
        (
            date(2025, 6, 30),
            date(2025, 6, 28),
            [
                "2025-06-30 is outside the session (2025-03-03 to 2025-06-27)",
                "2025-06-30 is in the future (today is 2025-06-28)",
            ],
        ),
        (
            date(2025, 3, 11),
            date(2025, 3, 10),
            ["2025-03-11 is in the future (today is 2025-03-10)"],
        ),
    ],
)
def test_an_entry_outside_the_session_or_in_the_future_is_refused(
    entered_on: date, today: date, messages: list[str]
) -> None:
    found = problems(check_entry, SESSION, NOTHING, Entry(TRAINEE, entered_on), today)
    assert found == tuple(FieldProblem("entered_on", message) for message in messages)


def test_every_bad_field_of_an_entry_is_named_at_once() -> None:
    entry = Entry("123", date(2025, 3, 1), "x" * 101)
    assert [problem.field for problem in problems(check_entry, SESSION, NOTHING, entry, TODAY)] == [
        "trainee_id",
        "entered_on",
        "funded_by",
    ]


def test_a_corrected_entry_cannot_move_after_the_exit_or_attendance() -> None:
    history = TraineeHistory(
        (
            LiveDeclaration("exit-1", leaving(date(2025, 4, 15))),
            LiveDeclaration("march", statement(Month(2025, 3))),
        )
    )
    assert problems(check_entry, SESSION, history, Entry(TRAINEE, date(2025, 4, 16)), TODAY) == (
        FieldProblem("entered_on", "2025-04-16 is after the trainee's exit on 2025-04-15"),
        FieldProblem(
            "entered_on",
            "attendance is declared for 2025-03, before 2025-04-16: "
            "there is no attendance before the entry",
        ),
    )
    check_entry(SESSION, history, Entry(TRAINEE, date(2025, 3, 31)), TODAY)


def test_an_exit_after_the_entry_is_accepted_on_the_entry_day_too() -> None:
    check_exit(SESSION, ENTERED, leaving(date(2025, 3, 10)), TODAY)
    completion = leaving(date(2025, 6, 27), ExitKind.COMPLETION, ExitReason.TRAINING_COMPLETED)
    check_exit(SESSION, ENTERED, completion, TODAY)


def test_an_exit_without_an_entry_is_refused() -> None:
    assert problems(check_exit, SESSION, NOTHING, leaving(date(2025, 4, 1)), TODAY) == (
        FieldProblem(
            "trainee_id",
            "no entry of this trainee in this session is declared: declare the entry before "
            "an exit",
        ),
    )


def test_an_exit_before_the_entry_is_refused() -> None:
    assert problems(check_exit, SESSION, ENTERED, leaving(date(2025, 3, 9)), TODAY) == (
        FieldProblem("exited_on", "2025-03-09 is before the entry on 2025-03-10"),
    )


def test_an_exit_after_the_session_or_in_the_future_is_refused() -> None:
    assert problems(check_exit, SESSION, ENTERED, leaving(date(2025, 6, 30)), TODAY) == (
        FieldProblem("exited_on", "2025-06-30 is outside the session (2025-03-03 to 2025-06-27)"),
    )
    today = date(2025, 4, 1)
    assert problems(check_exit, SESSION, ENTERED, leaving(date(2025, 4, 2)), today) == (
        FieldProblem("exited_on", "2025-04-02 is in the future (today is 2025-04-01)"),
    )


def test_a_second_exit_is_refused_and_a_correction_is_not() -> None:
    history = TraineeHistory((*ENTERED.declarations, LiveDeclaration("exit-1", leaving(TODAY))))
    history = TraineeHistory(
        (*ENTERED.declarations, LiveDeclaration("exit-1", leaving(date(2025, 4, 1))))
    )
    assert problems(check_exit, SESSION, history, leaving(date(2025, 4, 2)), TODAY) == (
        FieldProblem(
            "trainee_id",
            "an exit of this trainee from this session exists already (exited on 2025-04-01): "
            "correct it rather than declare another",
        ),
    )
    check_exit(SESSION, history.without("exit-1"), leaving(date(2025, 4, 2)), TODAY)


def test_an_exit_cannot_come_before_a_month_already_attended() -> None:
    history = TraineeHistory(
        (
            *ENTERED.declarations,
            LiveDeclaration("april", statement(Month(2025, 4))),
            LiveDeclaration("may", statement(Month(2025, 5))),
        )
    )
    assert problems(check_exit, SESSION, history, leaving(date(2025, 3, 31)), TODAY) == (
        FieldProblem(
            "exited_on",
            "attendance is declared for 2025-05, after 2025-03-31: "
            "there is no attendance after the exit",
        ),
    )
    check_exit(SESSION, history, leaving(date(2025, 5, 1)), TODAY)


@pytest.mark.parametrize("reason", list(ExitReason))
def test_a_completion_is_for_training_completed_and_an_abandonment_is_not(
    reason: ExitReason,
) -> None:
    completion = leaving(date(2025, 6, 27), ExitKind.COMPLETION, reason)
    abandonment = leaving(date(2025, 5, 2), ExitKind.ABANDONMENT, reason)
    if reason is ExitReason.TRAINING_COMPLETED:
        check_exit(SESSION, ENTERED, completion, TODAY)
        assert problems(check_exit, SESSION, ENTERED, abandonment, TODAY) == (
            FieldProblem(
                "reason",
                "an abandonment leaves before the end: its reason cannot be training_completed",
            ),
        )
    else:
        check_exit(SESSION, ENTERED, abandonment, TODAY)
        assert problems(check_exit, SESSION, ENTERED, completion, TODAY) == (
            FieldProblem("reason", f"a completion's reason is training_completed, not {reason}"),
        )
