"""K16.1-K16.4, K19: interruptions over 15 days within the session, correspondents' contact
details, information meetings and their results."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import cast

import pytest

from kairos_declaration.domain.consistency import (
    check_correspondent,
    check_interruption,
    check_meetings,
    check_result,
)
from kairos_declaration.domain.declarations import (
    Correspondent,
    InformationMeetingResult,
    InformationMeetings,
    Interruption,
    Meeting,
    MeetingKind,
    MeetingResult,
)
from kairos_declaration.domain.errors import DeclarationRejected, FieldProblem
from kairos_declaration.domain.sessions import TrainingSession, training_session

SESSION = training_session("14_AF_1", "14_SE_1", date(2025, 1, 6), date(2025, 6, 27), 35)
LEAP_SESSION = training_session("14_AF_1", "14_SE_2", date(2024, 1, 8), date(2024, 6, 28), 35)
AT_NINE = datetime(2025, 1, 20, 9, tzinfo=timezone(timedelta(hours=1)))


def refused_with(check: object, *arguments: object) -> tuple[FieldProblem, ...]:
    assert callable(check)
    with pytest.raises(DeclarationRejected) as refused:
        check(*arguments)
    return refused.value.problems


def test_an_interruption_of_16_days_is_declared_one_of_15_is_not() -> None:
    check_interruption(SESSION, Interruption(date(2025, 4, 1), date(2025, 4, 16), "travaux"))
    assert refused_with(
        check_interruption, SESSION, Interruption(date(2025, 4, 1), date(2025, 4, 15), "travaux")
    ) == (FieldProblem("ends_on", "an interruption must exceed 15 days (here 15)"),)


@pytest.mark.parametrize(
    ("session", "starts_on", "ends_on", "days"),
    [
        (LEAP_SESSION, date(2024, 2, 14), date(2024, 2, 29), 16),
        (SESSION, date(2025, 2, 14), date(2025, 3, 1), 16),
        (SESSION, date(2025, 2, 14), date(2025, 2, 28), 15),
        (LEAP_SESSION, date(2024, 2, 15), date(2024, 2, 29), 15),
    ],
)
def test_february_counts_its_own_days(
    session: TrainingSession, starts_on: date, ends_on: date, days: int
) -> None:
    interruption = Interruption(starts_on, ends_on, "congés")
    assert interruption.days == days
    if days > 15:
        check_interruption(session, interruption)
    else:
        assert refused_with(check_interruption, session, interruption) == (
            FieldProblem("ends_on", f"an interruption must exceed 15 days (here {days})"),
        )


def test_an_interruption_cannot_end_before_it_starts() -> None:
    interruption = Interruption(date(2025, 4, 16), date(2025, 4, 1), "travaux")
    assert refused_with(check_interruption, SESSION, interruption) == (
        FieldProblem(
            "ends_on", "the interruption cannot end (2025-04-01) before it starts (2025-04-16)"
        ),
    )


def test_an_interruption_lies_within_the_session_and_says_why() -> None:
    interruption = Interruption(date(2025, 1, 1), date(2025, 7, 1), " ")
    assert refused_with(check_interruption, SESSION, interruption) == (
        FieldProblem("starts_on", "2025-01-01 is outside the session (2025-01-06 to 2025-06-27)"),
        FieldProblem("ends_on", "2025-07-01 is outside the session (2025-01-06 to 2025-06-27)"),
        FieldProblem("reason", "is required"),
    )
    long_reason = Interruption(date(2025, 4, 1), date(2025, 4, 30), "x" * 501)
    assert refused_with(check_interruption, SESSION, long_reason) == (
        FieldProblem("reason", "at most 500 characters; got 501"),
    )


@pytest.mark.parametrize("phone", ["+33 1 23 45 67 89", "01.23.45.67.89", "0262123456", "123456"])
def test_a_correspondent_with_names_address_and_phone_is_accepted(phone: str) -> None:
    check_correspondent(Correspondent("Ada", "Lovelace", "ada@of.example.fr", phone))


def test_every_bad_contact_detail_is_named_at_once() -> None:
    correspondent = Correspondent(" ", "", "ada.of.example", "......")
    assert refused_with(check_correspondent, correspondent) == (
        FieldProblem("first_name", "is required"),
        FieldProblem("last_name", "is required"),
        FieldProblem("email", "'ada.of.example' is not an e-mail address (e.g. name@example.fr)"),
        FieldProblem(
            "phone",
            "a phone number is 6 to 20 digits, spaces or dots after an optional '+', with at "
            "least 6 digits (e.g. +33 1 23 45 67 89); '......' is not",
        ),
    )


@pytest.mark.parametrize("phone", ["12345", "+33-1-23-45-67", "0123456789012345678901", "tel 0123"])
def test_a_phone_number_needs_six_digits_and_no_other_signs(phone: str) -> None:
    correspondent = Correspondent("Ada", "Lovelace", "ada@of.example.fr", phone)
    assert [p.field for p in refused_with(check_correspondent, correspondent)] == ["phone"]


def meeting(meeting_id: str, starts_at: datetime = AT_NINE, place: str = "Salle A") -> Meeting:
    return Meeting(meeting_id, MeetingKind.COLLECTIVE, starts_at, place)


def test_a_calendar_of_meetings_with_distinct_ids_is_accepted() -> None:
    check_meetings(
        InformationMeetings(
            (meeting("m1"), Meeting("m2", MeetingKind.INDIVIDUAL, AT_NINE, "Bureau 3"))
        )
    )


def test_a_calendar_without_meetings_is_refused() -> None:
    assert refused_with(check_meetings, InformationMeetings(())) == (
        FieldProblem("meetings", "at least one meeting or appointment is required"),
    )


def test_each_bad_meeting_is_named_by_its_position() -> None:
    naive = datetime(2025, 1, 20, 9)  # noqa: DTZ001  # the naive input under test
    calendar = InformationMeetings(
        (
            meeting("m1"),
            meeting("m2", starts_at=naive),
            meeting("m1", starts_at=AT_NINE.astimezone(UTC)),
            meeting("", place=" "),
            meeting("x" * 41, place="p" * 201),
            Meeting("m5", cast(MeetingKind, "webinar"), AT_NINE, "Salle A"),
        )
    )
    assert refused_with(check_meetings, calendar) == (
        FieldProblem(
            "meetings[1].starts_at",
            "2025-01-20T09:00:00 has no UTC offset (e.g. 2025-03-03T09:00:00+01:00): without "
            "one it names no instant",
        ),
        FieldProblem(
            "meetings[2].meeting_id",
            "meeting id 'm1' is used by meetings[0] already: each meeting has its own id",
        ),
        FieldProblem("meetings[3].meeting_id", "is required"),
        FieldProblem("meetings[3].place", "is required"),
        FieldProblem("meetings[4].meeting_id", "at most 40 characters; got 41"),
        FieldProblem("meetings[4].place", "at most 200 characters; got 201"),
        FieldProblem("meetings[5].meeting_kind", "the kind is collective or individual"),
    )


@pytest.mark.parametrize("result", list(MeetingResult))
def test_each_result_after_the_meetings_is_accepted(result: MeetingResult) -> None:
    check_result(InformationMeetingResult("1234567A", result))


def test_a_result_for_a_bad_identifier_or_an_unknown_result_is_refused() -> None:
    result = InformationMeetingResult("1234567", cast(MeetingResult, "maybe"))
    assert refused_with(check_result, result) == (
        FieldProblem(
            "trainee_id",
            "a France Travail identifier is 8 characters, 7 digits then a letter or a digit "
            "(e.g. 1234567A); '1234567' has 7",
        ),
        FieldProblem("result", "the result is one of enrolled, not_enrolled, waiting_list"),
    )
