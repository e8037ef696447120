"""K16, K19: a training session's numbers, dates and weekly hours."""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from kairos_declaration.domain.errors import DeclarationRejected, FieldProblem
from kairos_declaration.domain.sessions import TrainingSession, as_decimal, training_session

STARTS, ENDS = date(2025, 3, 3), date(2025, 6, 27)


def test_a_session_is_made_from_what_the_of_sends() -> None:
    session = training_session(" 14_AF_0000012345", "14_SE_0000123456 ", STARTS, ENDS, 17.5)
    assert session == TrainingSession(
        "14_AF_0000012345", "14_SE_0000123456", STARTS, ENDS, Decimal("17.5")
    )
    assert session.covers(STARTS)
    assert session.covers(ENDS)
    assert not session.covers(date(2025, 3, 2))
    assert not session.covers(date(2025, 6, 28))
    assert session.dates == "2025-03-03 to 2025-06-27"


@pytest.mark.parametrize(
    ("given", "hours"),
    [(7.1, Decimal("7.1")), (60, Decimal(60)), (Decimal("0.25"), Decimal("0.25"))],
)
def test_weekly_hours_are_exact_decimals(given: Decimal | float | int, hours: Decimal) -> None:
    assert as_decimal(given) == hours
    assert training_session("A", "S", STARTS, ENDS, given).weekly_hours == hours


def test_a_session_of_one_day_is_a_session() -> None:
    assert training_session("A", "S", STARTS, STARTS, 35).ends_on == STARTS


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(DeclarationRejected) as refused:
        training_session("", "bad number", ENDS, STARTS, 0)
    assert refused.value.problems == (
        FieldProblem("action_number", "the Carif-Oref number is required"),
        FieldProblem(
            "session_number",
            "a Carif-Oref number is letters, digits, '_' and '-', starting with a letter or a "
            "digit (e.g. 14_SE_0000123456); 'bad number' is not",
        ),
        FieldProblem(
            "ends_on", "the session cannot end (2025-03-03) before it starts (2025-06-27)"
        ),
        FieldProblem("weekly_hours", "weekly hours are more than 0 and at most 60; got 0"),
    )


@pytest.mark.parametrize("hours", [0, -1, 60.25, 61, float("nan"), float("inf")])
def test_weekly_hours_are_more_than_zero_and_at_most_sixty(hours: float) -> None:
    with pytest.raises(DeclarationRejected) as refused:
        training_session("A", "S", STARTS, ENDS, hours)
    assert refused.value.fields == ("weekly_hours",)


def test_a_session_cannot_be_built_inconsistent_directly() -> None:
    with pytest.raises(DeclarationRejected) as refused:
        TrainingSession("A", "S", ENDS, STARTS, Decimal(0))
    assert refused.value.fields == ("ends_on", "weekly_hours")


def test_a_session_is_immutable() -> None:
    session = training_session("A", "S", STARTS, ENDS, 35)
    with pytest.raises(dataclasses.FrozenInstanceError):
        session.weekly_hours = Decimal(1)  # type: ignore[misc]  # proving it is frozen
