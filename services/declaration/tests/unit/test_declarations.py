"""K16: the seven declaration kinds mirror their event contracts; a trainee's live history."""

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import get_args

import pytest

from kairos_declaration.domain.declarations import (
    Attendance,
    Correspondent,
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
    trainee_of,
)
from kairos_declaration.domain.history import LiveDeclaration, TraineeHistory, TrainingSpan
from kairos_declaration.domain.months import Month
from kairos_declaration.domain.sessions import training_session
from kairos_schemas import declaration as contracts

TRAINEE = "1234567A"
ENTRY = Entry(TRAINEE, date(2025, 3, 10), "Région")
EXIT = Exit(TRAINEE, date(2025, 5, 16), ExitKind.ABANDONMENT, ExitReason.EMPLOYMENT)
MARCH = Attendance(TRAINEE, Month(2025, 3), Decimal(100), Decimal(7), Decimal(0))
APRIL = Attendance(TRAINEE, Month(2025, 4), Decimal(120), Decimal(0), Decimal("3.5"))
SESSION = training_session("A", "S", date(2025, 3, 3), date(2025, 6, 27), 35)
COMMON = set(contracts.CorrespondentDeclared.model_fields) - {"correspondent"}


def test_the_kinds_are_those_of_the_contracts_in_the_decrees_order() -> None:
    assert tuple(Kind) == get_args(contracts.DeclarationKind)
    assert [declared.kind for declared in contracts.DECLARATIONS] == list(Kind)


def test_the_choices_are_those_of_the_contracts() -> None:
    assert tuple(ExitReason) == get_args(contracts.ExitReason)
    result = contracts.InformationMeetingResultDeclared.model_fields["result"].annotation
    assert tuple(MeetingResult) == get_args(result)
    meeting_kind = contracts.InformationMeeting.model_fields["meeting_kind"].annotation
    assert tuple(MeetingKind) == get_args(meeting_kind)
    exit_kind = contracts.ExitDeclared.model_fields["exit_kind"].annotation
    assert tuple(ExitKind) == get_args(exit_kind)


@pytest.mark.parametrize(
    ("declaration", "contract"),
    [
        (Interruption, contracts.InterruptionDeclared),
        (InformationMeetings, contracts.InformationMeetingsDeclared),
        (InformationMeetingResult, contracts.InformationMeetingResultDeclared),
        (Entry, contracts.EntryDeclared),
        (Attendance, contracts.AttendanceDeclared),
        (Exit, contracts.ExitDeclared),
    ],
)
def test_each_kind_has_its_contracts_own_fields(declaration: type, contract: type) -> None:
    fields = {field.name for field in dataclasses.fields(declaration)}
    assert fields == set(contract.model_fields) - COMMON  # type: ignore[attr-defined]  # pydantic model
    assert declaration.kind == contract.kind  # type: ignore[attr-defined]  # both have ClassVars


def test_nested_values_have_their_contracts_fields() -> None:
    assert {f.name for f in dataclasses.fields(Correspondent)} == set(
        contracts.Correspondent.model_fields
    )
    assert {f.name for f in dataclasses.fields(Meeting)} == set(
        contracts.InformationMeeting.model_fields
    )
    assert Correspondent.kind is Kind.CORRESPONDENT


def test_what_a_declaration_is_about() -> None:
    assert trainee_of(ENTRY) == TRAINEE
    assert trainee_of(InformationMeetingResult(TRAINEE, MeetingResult.ENROLLED)) == TRAINEE
    assert trainee_of(Interruption(date(2025, 4, 1), date(2025, 4, 20), "travaux")) is None
    meetings = InformationMeetings(
        (Meeting("m1", MeetingKind.COLLECTIVE, datetime(2025, 2, 3, 9, tzinfo=UTC), "Salle A"),)
    )
    assert trainee_of(meetings) is None


def test_an_interruption_counts_both_ends_and_attendance_adds_all_hours() -> None:
    assert Interruption(date(2025, 4, 1), date(2025, 4, 16), "x").days == 16
    assert Interruption(date(2024, 2, 14), date(2024, 2, 29), "x").days == 16
    assert APRIL.total_hours == Decimal("123.5")


def test_declarations_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ENTRY.entered_on = date(2025, 3, 11)  # type: ignore[misc]  # proving it is frozen


def test_the_history_reads_the_live_entry_exit_and_statements() -> None:
    history = TraineeHistory(
        (
            LiveDeclaration("april", APRIL),
            LiveDeclaration("entry", ENTRY),
            LiveDeclaration("march", MARCH),
            LiveDeclaration("exit", EXIT),
        )
    )
    assert history.entry == ENTRY
    assert history.exit == EXIT
    assert history.attendance == (MARCH, APRIL)
    assert history.attendance_in(Month(2025, 4)) == APRIL
    assert history.attendance_in(Month(2025, 5)) is None
    assert history.span(SESSION) == TrainingSpan(date(2025, 3, 10), date(2025, 5, 16))
    assert str(history.span(SESSION)) == "2025-03-10 to 2025-05-16"


def test_without_an_exit_the_span_runs_to_the_sessions_end() -> None:
    history = TraineeHistory((LiveDeclaration("entry", ENTRY), LiveDeclaration("exit", EXIT)))
    assert history.without("exit").span(SESSION) == TrainingSpan(
        date(2025, 3, 10), date(2025, 6, 27)
    )
    assert history.without("entry").span(SESSION) is None
    assert TraineeHistory().entry is None
    assert TraineeHistory().exit is None
    assert TraineeHistory().attendance == ()
