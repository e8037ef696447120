"""Recorded absences of a habilitated person, and when one ends the habilitation (K13).

The terms (CGU §4.2) end a habilitation on an "absence of more than 3 months"; a recorded
absence that reaches that length ends it by itself, without waiting for the RGC (K13).

The rule, counted on the calendar in whole days (dates, not instants):
- an absence starting on day S covers 3 months exactly when it covers S up to the day before
  L = S + 3 months (same day number, clamped to the month's end: see `calendar_months`);
- so a person still absent on L has been absent *more* than 3 months: the absence reaches the
  limit on L, and from L on (if it has not ended before L) it ends the habilitation.
Examples: from 10 January the limit is 10 April; from 31 January it is 30 April; from
30 November 2023 it is 29 February 2024. L is always 89 to 92 days after S.
`ends_on` is the last day of absence (inclusive); None while the return date is unknown.
"""

from dataclasses import dataclass
from datetime import date

from kairos_habilitation.domain.calendar_months import add_months

MONTHS_OF_ABSENCE = 3


class InvalidAbsenceError(ValueError):
    """An absence was recorded with dates that cannot be."""


@dataclass(frozen=True, slots=True)
class Absence:
    """A recorded absence: from `starts_on` to `ends_on` inclusive (None: open-ended)."""

    starts_on: date
    ends_on: date | None = None

    def __post_init__(self) -> None:
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise InvalidAbsenceError(
                f"an absence cannot end ({self.ends_on}) before it starts ({self.starts_on})"
            )


def date_absence_reaches_three_months(starts_on: date) -> date:
    """The first day on which an absence started on `starts_on` has lasted more than 3 months."""
    return add_months(starts_on, MONTHS_OF_ABSENCE)


def absence_reaches_three_months(absence: Absence, today: date) -> bool:
    """Whether, on `today`, `absence` has lasted more than 3 months (and so ends the habilitation).

    True from the limit day on, provided the person was still absent that day; an absence that
    ended before its limit never reaches it, even when looked at later.
    """
    limit = date_absence_reaches_three_months(absence.starts_on)
    still_absent_at_limit = absence.ends_on is None or absence.ends_on >= limit
    return still_absent_at_limit and today >= limit
