"""Consistency of a trainee's declarations in a session (K19), and the session-wide rules.

A declaration that breaks a rule is refused with `DeclarationRejected`, one problem per bad
field, and changes nothing (K19). The rules read the trainee's live history in the session
(`TraineeHistory`); a correction is checked like a new declaration against the history
*without* the version it replaces (K20), so the whole history stays consistent after it.

- entry: one per trainee and session (``trainee_id``), within the session's dates and not in
  the future (``entered_on``), never after the trainee's exit or attendance (``entered_on``);
- exit: after an entry (``trainee_id``), once (``trainee_id``), not before the entry, not after
  the session's end, not in the future, not before a month already attended (``exited_on``);
  an abandonment's reason is not ``training_completed`` and a completion's is (``reason``);
- attendance: after an entry (``trainee_id``), for a month that overlaps the entry-exit span
  and is not after the current month, once per month (``month``); hours in quarters of an hour
  (each hours field), together no more than the month allows (``attended_hours``, see
  `allowance`).

`today` is the current day in the OF's zone (see `deadlines.local_date`). Interruptions,
correspondents and information meetings are checked by `session_consistency`, re-exported here.
"""

from datetime import date
from decimal import Decimal
from typing import Final

from kairos_declaration.domain.allowance import format_hours, monthly_allowance
from kairos_declaration.domain.declarations import (
    Attendance,
    Entry,
    Exit,
    ExitKind,
    ExitReason,
    InformationMeetingResult,
    MeetingResult,
)
from kairos_declaration.domain.errors import DeclarationRejected, Problems
from kairos_declaration.domain.history import TraineeHistory, TrainingSpan
from kairos_declaration.domain.identifiers import parse_france_travail_id
from kairos_declaration.domain.session_consistency import (
    check_correspondent,
    check_interruption,
    check_meetings,
)
from kairos_declaration.domain.sessions import TrainingSession
from kairos_shared.zones import Zone

__all__ = [
    "check_attendance",
    "check_correspondent",
    "check_entry",
    "check_exit",
    "check_interruption",
    "check_meetings",
    "check_result",
]

FUNDED_BY_MAX_LENGTH: Final = 100
HOURS_FIELDS: Final = ("attended_hours", "justified_absence_hours", "unjustified_absence_hours")
QUARTERS_PER_HOUR: Final = 4
MOST_HOURS_IN_A_MONTH: Final = Decimal(31 * 24)
_NO_ENTRY: Final = (
    "no entry of this trainee in this session is declared: declare the entry before {what}"
)


def check_entry(
    session: TrainingSession, history: TraineeHistory, entry: Entry, today: date
) -> None:
    """Refuse `entry` unless it is the trainee's only entry in `session`, on a day of the
    session, not after `today`, and before the trainee's exit and attendance (K19)."""
    problems = Problems()
    _check_trainee(entry.trainee_id, problems)
    existing = history.entry
    if existing is not None:
        problems.add(
            "trainee_id",
            f"an entry of this trainee in this session exists already (entered on "
            f"{existing.entered_on}): correct it rather than declare another",
        )
    _check_day(session, entry.entered_on, today, "entered_on", problems)
    left = history.exit
    if left is not None and entry.entered_on > left.exited_on:
        problems.add(
            "entered_on", f"{entry.entered_on} is after the trainee's exit on {left.exited_on}"
        )
    attended = [s.month for s in history.attendance if s.month.last_day < entry.entered_on]
    if attended:
        problems.add(
            "entered_on",
            f"attendance is declared for {attended[0]}, before {entry.entered_on}: "
            "there is no attendance before the entry",
        )
    if entry.funded_by is not None and len(entry.funded_by) > FUNDED_BY_MAX_LENGTH:
        problems.add("funded_by", f"at most 100 characters; got {len(entry.funded_by)}")
    problems.raise_if_any()


def check_exit(session: TrainingSession, history: TraineeHistory, exit: Exit, today: date) -> None:
    """Refuse `exit` unless the trainee entered `session` and has not left it yet, it is not
    before the entry nor after the session or `today`, no month after it is attended, and its
    reason fits its kind (K19)."""
    problems = Problems()
    _check_trainee(exit.trainee_id, problems)
    entry, existing = history.entry, history.exit
    if entry is None:
        problems.add("trainee_id", _NO_ENTRY.format(what="an exit"))
    elif exit.exited_on < entry.entered_on:
        problems.add("exited_on", f"{exit.exited_on} is before the entry on {entry.entered_on}")
    if existing is not None:
        problems.add(
            "trainee_id",
            f"an exit of this trainee from this session exists already (exited on "
            f"{existing.exited_on}): correct it rather than declare another",
        )
    _check_day(session, exit.exited_on, today, "exited_on", problems)
    attended = [s.month for s in history.attendance if s.month.first_day > exit.exited_on]
    if attended:
        problems.add(
            "exited_on",
            f"attendance is declared for {attended[-1]}, after {exit.exited_on}: "
            "there is no attendance after the exit",
        )
    _check_exit_reason(exit, problems)
    problems.raise_if_any()


def check_attendance(
    session: TrainingSession,
    history: TraineeHistory,
    attendance: Attendance,
    today: date,
    zone: Zone,
) -> None:
    """Refuse `attendance` unless the trainee entered `session`, the month overlaps their
    span and has begun by `today`, no other statement covers it, and its hours are quarters
    that add up to no more than the month allows in `zone` (K19)."""
    problems = Problems()
    _check_trainee(attendance.trainee_id, problems)
    for field in HOURS_FIELDS:
        _check_hours(getattr(attendance, field), field, problems)
    month = attendance.month
    span = history.span(session)
    if span is None:
        problems.add("trainee_id", _NO_ENTRY.format(what="attendance"))
    elif not month.overlaps(span.first_day, span.last_day):
        problems.add("month", f"{month} is outside the trainee's time in training ({span})")
    if month.first_day > today:
        problems.add(
            "month", f"{month} has not begun (today is {today}): the current month at the latest"
        )
    if history.attendance_in(month) is not None:
        problems.add(
            "month",
            f"attendance for {month} is declared already: correct that statement rather than "
            "declare another",
        )
    if span is not None and not any(problems.concern(f) for f in (*HOURS_FIELDS, "month")):
        _check_allowance(session, span, attendance, zone, problems)
    problems.raise_if_any()


def check_result(result: InformationMeetingResult) -> None:
    """Refuse a result after the information meetings whose job seeker or result is not one
    the platform knows (K16.4)."""
    problems = Problems()
    _check_trainee(result.trainee_id, problems)
    if result.result not in {known.value for known in MeetingResult}:
        problems.add("result", "the result is one of enrolled, not_enrolled, waiting_list")
    problems.raise_if_any()


def _check_trainee(trainee_id: str, problems: Problems) -> None:
    try:
        parse_france_travail_id(trainee_id)
    except DeclarationRejected as rejected:
        problems.absorb(rejected)


def _check_day(
    session: TrainingSession, day: date, today: date, field: str, problems: Problems
) -> None:
    if not session.covers(day):
        problems.add(field, f"{day} is outside the session ({session.dates})")
    if day > today:
        problems.add(field, f"{day} is in the future (today is {today})")


def _check_exit_reason(exit: Exit, problems: Problems) -> None:
    completed = exit.reason == ExitReason.TRAINING_COMPLETED
    if exit.exit_kind == ExitKind.ABANDONMENT and completed:
        problems.add(
            "reason",
            "an abandonment leaves before the end: its reason cannot be training_completed",
        )
    elif exit.exit_kind == ExitKind.COMPLETION and not completed:
        problems.add("reason", f"a completion's reason is training_completed, not {exit.reason}")


def _check_hours(hours: Decimal, field: str, problems: Problems) -> None:
    if not hours.is_finite():
        problems.add(field, f"a number of hours is expected; got {hours}")
    elif hours < 0:
        problems.add(field, f"hours cannot be negative; got {format_hours(hours)}")
    elif hours > MOST_HOURS_IN_A_MONTH:
        problems.add(field, f"a month has at most 744 hours; got {format_hours(hours)}")
    elif (hours * QUARTERS_PER_HOUR) % 1 != 0:
        problems.add(
            field,
            f"hours are counted in quarters of an hour (e.g. 7.25, 7.5, 7.75); "
            f"got {format_hours(hours)}",
        )


def _check_allowance(
    session: TrainingSession,
    span: TrainingSpan,
    attendance: Attendance,
    zone: Zone,
    problems: Problems,
) -> None:
    allowance = monthly_allowance(session, span, attendance.month, zone)
    total = attendance.total_hours
    if total > allowance.hours:
        problems.add(
            "attended_hours",
            f"attended and absence hours add up to {format_hours(total)} but "
            f"{attendance.month} allows at most {format_hours(allowance.hours)} "
            f"({format_hours(session.weekly_hours)} h a week over {allowance.working_days} "
            f"working days in training)",
        )
