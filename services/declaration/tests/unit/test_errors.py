"""K19: a refused declaration names every bad field at once, by its JSON path."""

import pytest

from kairos_declaration.domain.errors import DeclarationRejected, FieldProblem, Problems


def test_a_rejection_carries_every_problem_in_order_and_says_them_all() -> None:
    rejected = DeclarationRejected(
        [FieldProblem("trainee_id", "is required"), FieldProblem("month", "is not a month")]
    )
    assert rejected.problems == (
        FieldProblem("trainee_id", "is required"),
        FieldProblem("month", "is not a month"),
    )
    assert rejected.fields == ("trainee_id", "month")
    assert str(rejected) == "trainee_id: is required; month: is not a month"
    assert isinstance(rejected, ValueError)


def test_a_rejection_without_a_problem_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="at least one problem"):
        DeclarationRejected([])


def test_fields_are_seen_from_an_enclosing_object_or_batch_row() -> None:
    rejected = DeclarationRejected.of("month", "bad")
    assert rejected.within("declarations[2]").fields == ("declarations[2].month",)
    assert FieldProblem("[1].starts_at", "x").within("meetings") == FieldProblem(
        "meetings[1].starts_at", "x"
    )
    assert FieldProblem("action_number", "x").within("session").field == "session.action_number"


def test_problems_are_collected_then_raised_together() -> None:
    problems = Problems()
    problems.raise_if_any()
    assert not problems
    problems.add("attended_hours", "too many")
    problems.absorb(DeclarationRejected.of("trainee_id", "bad"))
    assert problems
    assert problems.concern("trainee_id")
    assert not problems.concern("month")
    with pytest.raises(DeclarationRejected) as refused:
        problems.raise_if_any()
    assert refused.value.fields == ("attended_hours", "trainee_id")
