"""Reminders of the monthly attendance deadline (K18, K23): a few days before the 5th working
day of the month (in the organisation's zone), the holder of the RGC's rights of an
organisation whose trainees in training last month still lack a statement is told, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from kairos_notification.adapters import attendance, recipients
from kairos_notification.adapters.recipients import KnownOrganisation
from kairos_notification.domain.notifications import NotificationKind
from kairos_notification.service_layer.context import NotificationContext
from kairos_notification.service_layer.notices import Notice
from kairos_notification.service_layer.queueing import queue
from kairos_shared.access_hours import AccessCalendar
from kairos_shared.zones import Zone, nth_working_day


@dataclass(frozen=True)
class AttendanceDeadline:
    """Statements are due by the `working_day`-th working day of the next month; the reminder
    goes `days_before` days before (configuration, as the declaration service's K18 setting)."""

    working_day: int = 5
    days_before: int = 2


def _window(
    today: date, zone: Zone, deadline: AttendanceDeadline, calendar: AccessCalendar
) -> tuple[date, date] | None:
    """(the month to remind of, its due date) when `today` is in the reminder window: the due
    date of the declaration service (K18), a working day the zone is open."""
    working_day = nth_working_day(today.year, today.month, deadline.working_day, zone)
    due = calendar.next_open_day(working_day, zone)
    if not due - timedelta(days=deadline.days_before) <= today <= due:
        return None
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1), due


async def remind_attendance(
    context: NotificationContext, deadline: AttendanceDeadline | None = None
) -> int:
    """One scheduler round: how many organisations were reminded (safe with replicas: each
    (organisation, month) is claimed once)."""
    deadline = deadline or AttendanceDeadline()
    async with context.pool.acquire() as connection:
        organisations = await recipients.organisations(connection)
    reminded = 0
    for organisation in organisations:
        reminded += await _remind(context, organisation, deadline)
    return reminded


async def _remind(
    context: NotificationContext, organisation: KnownOrganisation, deadline: AttendanceDeadline
) -> int:
    now = context.clock.now()
    zone = Zone(organisation.zone)
    window = _window(now.astimezone(zone.time_zone).date(), zone, deadline, context.calendar)
    if window is None:
        return 0
    month, due = window
    last_day = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    async with context.pool.acquire() as connection, connection.transaction():
        if not await attendance.claim_reminder(connection, organisation.id, month, now):
            return 0
        missing = await attendance.missing_statements(connection, organisation.id, month, last_day)
        holder = await recipients.rgc_rights_holder(connection, organisation)
        if missing == 0 or holder is None:
            return 0
        variables = {"recipient_name": holder.name, "organisation_name": organisation.legal_name,
                     "month": month.strftime("%Y-%m"), "due_on": due}  # fmt: skip
        notice = Notice(NotificationKind.ATTENDANCE_DEADLINE_REMINDER, holder, organisation.id,
                        variables)  # fmt: skip
        trigger = (f"attendance-reminder:{organisation.id}:{month:%Y-%m}", "attendance-deadline")
        return await queue(connection, context.renderer, [notice], trigger, now)
