"""Reminders before provisional credentials lapse (K6, K23).

An RGC is reminded 7 and 2 days before the 21-day deadline, anyone else 2 days before the 7-day
one; both schedules are configuration. A scheduler asks `reminders_due` for each provisional
account and sends what it returns, recording each reminder by its `before_deadline`.

When the scheduler has missed a reminder and a later one is already due, only the later one is
sent: two e-mails at once about the same deadline would be noise.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from kairos_identity.domain.accounts import (
    DEFAULT_VALIDITY,
    ProvisionalValidity,
    Role,
    provisional_deadline,
)
from kairos_shared.clock import require_aware
from kairos_shared.zones import Zone


@dataclass(frozen=True, slots=True)
class ReminderSchedule:
    """How long before the deadline reminders go out, by role, from configuration."""

    rgc: tuple[timedelta, ...] = (timedelta(days=7), timedelta(days=2))
    others: tuple[timedelta, ...] = (timedelta(days=2),)

    def __post_init__(self) -> None:
        if any(before <= timedelta(0) for before in (*self.rgc, *self.others)):
            raise ValueError("reminders must go out a positive time before the deadline")

    def for_role(self, role: Role) -> tuple[timedelta, ...]:
        """The reminders that apply to `role`."""
        return self.rgc if role is Role.RGC else self.others


@dataclass(frozen=True, slots=True)
class LapseReminder:
    """One reminder: how long before the deadline it is set, when it is due, the deadline."""

    before_deadline: timedelta
    due_at: datetime
    deadline: datetime


DEFAULT_REMINDER_SCHEDULE: Final = ReminderSchedule()


def reminders_due(
    role: Role,
    issued_at: datetime,
    now: datetime,
    already_sent: Collection[timedelta],
    *,
    validity: ProvisionalValidity = DEFAULT_VALIDITY,
    schedule: ReminderSchedule = DEFAULT_REMINDER_SCHEDULE,
    zone: Zone = Zone.METROPOLITAN,
) -> list[LapseReminder]:
    """The reminder to send at `now` for credentials issued at `issued_at`, if any.

    At most one: the latest one already due, unless it or a later one was sent. None once the
    deadline has passed (the lapse notice takes over), nor any set before the issue itself.
    """
    require_aware(now, "now")
    deadline = provisional_deadline(role, issued_at, validity, zone)
    if now >= deadline:
        return []
    due = [
        LapseReminder(before_deadline=before, due_at=deadline - before, deadline=deadline)
        for before in schedule.for_role(role)
        if before < validity.for_role(role) and deadline - before <= now
    ]
    if not due:
        return []
    latest = min(due, key=lambda reminder: reminder.before_deadline)
    if any(sent <= latest.before_deadline for sent in already_sent):
        return []
    return [latest]
