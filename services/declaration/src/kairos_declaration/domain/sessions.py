"""A training session as declarations refer to it (K16): its Carif-Oref action and session
numbers, its first and last day, and its weekly hours.

The dates bound every declaration about the session (entries, exits, attendance,
interruptions: K19) and the weekly hours cap what a month of attendance may add up to (K19).
Weekly hours are more than 0 and at most 60 (the legal maximum working week in France), kept
as a `Decimal` so that quarters of an hour add up exactly.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from kairos_declaration.domain.errors import DeclarationRejected, FieldProblem, Problems
from kairos_declaration.domain.identifiers import parse_carif_oref_number

MAX_WEEKLY_HOURS: Final = Decimal(60)


def as_decimal(value: Decimal | float | int) -> Decimal:
    """`value` as a Decimal, a float read as it prints (``7.1`` is 7.1, not 7.0999…)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def weekly_hours_problem(weekly_hours: Decimal) -> str | None:
    """Why `weekly_hours` cannot be a session's weekly hours, or None when it can."""
    if not weekly_hours.is_finite() or not Decimal(0) < weekly_hours <= MAX_WEEKLY_HOURS:
        return f"weekly hours are more than 0 and at most 60; got {weekly_hours}"
    return None


def dates_problem(starts_on: date, ends_on: date) -> str | None:
    """Why a session cannot run from `starts_on` to `ends_on`, or None when it can."""
    if ends_on < starts_on:
        return f"the session cannot end ({ends_on}) before it starts ({starts_on})"
    return None


@dataclass(frozen=True, slots=True)
class TrainingSession:
    """One session of a training action, from `starts_on` to `ends_on` inclusive."""

    action_number: str
    session_number: str
    starts_on: date
    ends_on: date
    weekly_hours: Decimal

    def __post_init__(self) -> None:
        problems = [
            FieldProblem(field, message)
            for field, message in (
                ("ends_on", dates_problem(self.starts_on, self.ends_on)),
                ("weekly_hours", weekly_hours_problem(self.weekly_hours)),
            )
            if message is not None
        ]
        if problems:
            raise DeclarationRejected(problems)

    def covers(self, day: date) -> bool:
        """Whether `day` is one of the session's days."""
        return self.starts_on <= day <= self.ends_on

    @property
    def dates(self) -> str:
        """The session's dates as messages quote them."""
        return f"{self.starts_on} to {self.ends_on}"


def training_session(
    action_number: str,
    session_number: str,
    starts_on: date,
    ends_on: date,
    weekly_hours: Decimal | float | int,
) -> TrainingSession:
    """A session from what an OF sends, or `DeclarationRejected` with every problem: the
    Carif-Oref numbers (``action_number``, ``session_number``), ``ends_on`` before
    ``starts_on``, ``weekly_hours`` not in (0, 60]."""
    problems = Problems()
    numbers: list[str] = []
    for field, text in (("action_number", action_number), ("session_number", session_number)):
        try:
            numbers.append(parse_carif_oref_number(text, field))
        except DeclarationRejected as rejected:
            problems.absorb(rejected)
    hours = as_decimal(weekly_hours)
    for field, message in (
        ("ends_on", dates_problem(starts_on, ends_on)),
        ("weekly_hours", weekly_hours_problem(hours)),
    ):
        if message is not None:
            problems.add(field, message)
    problems.raise_if_any()
    return TrainingSession(numbers[0], numbers[1], starts_on, ends_on, hours)
