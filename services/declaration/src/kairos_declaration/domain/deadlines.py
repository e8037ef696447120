"""When a declaration is due, and whether it came late (K18).

The terms ask for declarations "within the time allowed" (CGU §4.2). By default (SPEC §4, both
configurable through `DeadlinePolicy`):

- an entry, an interruption or an exit is due within `event_days` (3) calendar days of the
  event: its day (``entered_on``, the interruption's ``starts_on``, ``exited_on``) plus 3;
- a monthly attendance statement is due by the `attendance_working_day`-th (5th) working day
  of the next month, working days being Monday to Friday less the public holidays of the OF's
  zone (Alsace-Moselle's Good Friday, an overseas département's own holidays...);
- either due date, when the OF's zone is closed that day (a weekend, the zone's public holiday,
  a configured closure that takes the whole day: `OpenDays`, K4), moves to
  the zone's next open day: an entry of a Wednesday or a Thursday is due the Monday after, not
  on the Saturday or the Sunday;
- no deadline is sourced for the correspondent's details, information meetings or their
  results: they are due the day they are declared, and so are never late (assumption).

A declaration is late when it is declared after the end of its due day, in the OF zone's local
time (a declaration at 23:30 in La Réunion on the due day is on time, whatever UTC says). A
late declaration is still accepted, marked late and counted (K18).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from kairos_declaration.domain.declarations import (
    Attendance,
    Declaration,
    Entry,
    Exit,
    Interruption,
    Kind,
)
from kairos_declaration.domain.working_days import nth_working_day
from kairos_shared.clock import require_aware
from kairos_shared.zones import Zone


class OpenDays(Protocol):
    """When a zone is open (K4): `kairos_shared.access_hours.AccessCalendar`, configured."""

    def next_open_day(self, day: date, zone: Zone) -> date:
        """`day` when the zone opens at some instant of it, else the first day after that it
        does."""
        ...


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """How long an OF has to declare (K18): calendar days after an event, and the working day
    of the next month by which a month's attendance is due."""

    event_days: int = 3
    attendance_working_day: int = 5

    def __post_init__(self) -> None:
        if self.event_days < 0:
            raise ValueError(f"event_days cannot be negative, got {self.event_days}")
        if self.attendance_working_day < 1:
            raise ValueError(
                f"attendance_working_day counts from 1, got {self.attendance_working_day}"
            )


def local_date(instant: datetime, zone: Zone) -> date:
    """The day `instant` falls on in `zone`'s local time (an aware instant)."""
    return require_aware(instant, "instant").astimezone(zone.time_zone).date()


def due_by(
    kind: Kind,
    declaration: Declaration,
    zone: Zone,
    policy: DeadlinePolicy,
    *,
    calendar: OpenDays,
    declared_at: datetime,
) -> date:
    """The last day on which `declaration`, of `kind`, is on time in `zone` (K18): never a
    day on which `calendar` keeps the zone closed.

    `declared_at` is when it is declared: the due day of the kinds without a deadline.
    """
    require_aware(declared_at, "declared_at")
    if declaration.kind != kind:
        raise ValueError(f"a {declaration.kind} declaration was given as a {kind} one")
    event_days = timedelta(days=policy.event_days)
    if isinstance(declaration, Entry):
        due = declaration.entered_on + event_days
    elif isinstance(declaration, Interruption):
        due = declaration.starts_on + event_days
    elif isinstance(declaration, Exit):
        due = declaration.exited_on + event_days
    elif isinstance(declaration, Attendance):
        due = attendance_due_by(declaration, zone, policy)
    else:
        return local_date(declared_at, zone)
    return calendar.next_open_day(due, zone)


def attendance_due_by(attendance: Attendance, zone: Zone, policy: DeadlinePolicy) -> date:
    """The working day of the month after the statement's by which it is due (K18), before it
    moves off a day a configured closure takes whole (`due_by`)."""
    return nth_working_day(attendance.month.next(), policy.attendance_working_day, zone)


def is_late(due_by: date, declared_at: datetime, zone: Zone) -> bool:
    """Whether a declaration made at `declared_at` came after the end of its due day, read in
    `zone`'s local time (K18)."""
    return local_date(require_aware(declared_at, "declared_at"), zone) > due_by
