"""The hours a month of attendance may add up to (K19: "no attendance hours above what the
month allows").

A trainee can be present, or absent with or without justification, only on the days the
training runs for them: the working days (Monday to Friday, the OF zone's public holidays
excluded) of the month that lie inside both the trainee's span (entry to exit, or to the
session's end) and the session's dates. A working day is a fifth of the session's week, so

    allowance = weekly_hours * working days / 5

A full month has at most 23 working days, so no month ever allows more than
weekly_hours * 23 / 5. Interruptions (K16.1) are not deducted: the OF reports absences during
them, if any, as it sees fit.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from kairos_declaration.domain.history import TrainingSpan
from kairos_declaration.domain.months import Month
from kairos_declaration.domain.sessions import TrainingSession
from kairos_declaration.domain.working_days import working_days
from kairos_shared.zones import Zone

WORKING_DAYS_PER_WEEK: Final = 5
MOST_WORKING_DAYS_IN_A_MONTH: Final = 23


@dataclass(frozen=True, slots=True)
class MonthlyAllowance:
    """What a month allows: the trainee's working days in it, and the hours they are worth."""

    month: Month
    working_days: int
    hours: Decimal


def monthly_allowance(
    session: TrainingSession, span: TrainingSpan, month: Month, zone: Zone
) -> MonthlyAllowance:
    """The hours `month` allows a trainee in training over `span` of `session`, in `zone`."""
    first = max(month.first_day, span.first_day, session.starts_on)
    last = min(month.last_day, span.last_day, session.ends_on)
    days = working_days(first, last, zone)
    return MonthlyAllowance(month, days, session.weekly_hours * days / WORKING_DAYS_PER_WEEK)


def format_hours(hours: Decimal) -> str:
    """Hours as messages write them: ``140``, ``137.5``, ``7.25`` (no trailing zeros)."""
    return f"{hours.normalize():f}"
