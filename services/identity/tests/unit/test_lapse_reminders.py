"""K6, K23: reminders before provisional credentials lapse."""

from datetime import UTC, datetime, timedelta

import pytest

from kairos_identity.domain.accounts import ProvisionalValidity, Role
from kairos_identity.domain.lapse_reminders import (
    LapseReminder,
    ReminderSchedule,
    reminders_due,
)
from kairos_shared.zones import Zone

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # 10:00 in Paris, 3 March
DAY = timedelta(days=1)
RGC_DEADLINE = datetime(2025, 3, 24, 23, 0, tzinfo=UTC)  # the end of 24 March in Paris
USER_DEADLINE = datetime(2025, 3, 10, 23, 0, tzinfo=UTC)  # the end of 10 March in Paris


def rgc_reminder(days_before: int) -> LapseReminder:
    before = days_before * DAY
    return LapseReminder(
        before_deadline=before, due_at=RGC_DEADLINE - before, deadline=RGC_DEADLINE
    )


def test_the_default_schedule() -> None:
    assert ReminderSchedule().rgc == (7 * DAY, 2 * DAY)
    assert ReminderSchedule().others == (2 * DAY,)


def test_nothing_is_due_before_the_first_reminder() -> None:
    assert reminders_due(Role.RGC, T0, RGC_DEADLINE - 7 * DAY - timedelta(seconds=1), []) == []


def test_an_rgc_is_reminded_7_days_before_the_deadline() -> None:
    assert reminders_due(Role.RGC, T0, RGC_DEADLINE - 7 * DAY, []) == [rgc_reminder(7)]


def test_a_reminder_already_sent_is_not_due_again() -> None:
    assert reminders_due(Role.RGC, T0, RGC_DEADLINE - 5 * DAY, [7 * DAY]) == []


def test_an_rgc_is_reminded_again_2_days_before_the_deadline() -> None:
    assert reminders_due(Role.RGC, T0, RGC_DEADLINE - 2 * DAY, [7 * DAY]) == [rgc_reminder(2)]
    assert reminders_due(Role.RGC, T0, RGC_DEADLINE - DAY, [7 * DAY, 2 * DAY]) == []


def test_a_missed_reminder_is_superseded_by_a_later_one() -> None:
    assert reminders_due(Role.RGC, T0, RGC_DEADLINE - DAY, []) == [rgc_reminder(2)]
    assert reminders_due(Role.RGC, T0, RGC_DEADLINE - DAY, [2 * DAY]) == []


@pytest.mark.parametrize("role", [Role.USER, Role.HEAD, Role.OPERATOR])
def test_others_are_reminded_2_days_before_their_7_day_deadline(role: Role) -> None:
    assert reminders_due(role, T0, USER_DEADLINE - 2 * DAY - timedelta(seconds=1), []) == []
    assert reminders_due(role, T0, USER_DEADLINE - 2 * DAY, []) == [
        LapseReminder(
            before_deadline=2 * DAY, due_at=USER_DEADLINE - 2 * DAY, deadline=USER_DEADLINE
        )
    ]


def test_no_reminder_once_the_deadline_has_passed() -> None:
    assert reminders_due(Role.RGC, T0, RGC_DEADLINE, []) == []


def test_a_reminder_set_before_the_credentials_were_issued_is_skipped() -> None:
    schedule = ReminderSchedule(others=(10 * DAY, 2 * DAY))

    assert reminders_due(Role.USER, T0, T0, [], schedule=schedule) == []
    assert reminders_due(Role.USER, T0, USER_DEADLINE - DAY, [], schedule=schedule) == [
        LapseReminder(
            before_deadline=2 * DAY, due_at=USER_DEADLINE - 2 * DAY, deadline=USER_DEADLINE
        )
    ]


def test_the_schedule_and_validity_come_from_configuration() -> None:
    validity = ProvisionalValidity(rgc=30 * DAY)
    schedule = ReminderSchedule(rgc=(10 * DAY,))
    deadline = datetime(2025, 4, 2, 22, 0, tzinfo=UTC)  # the end of 2 April, summer time

    assert reminders_due(
        Role.RGC, T0, deadline - 10 * DAY, [], validity=validity, schedule=schedule
    ) == [LapseReminder(before_deadline=10 * DAY, due_at=deadline - 10 * DAY, deadline=deadline)]


@pytest.mark.parametrize("before", [timedelta(0), -DAY])
def test_a_reminder_must_come_before_the_deadline(before: timedelta) -> None:
    with pytest.raises(ValueError, match="reminders must go out a positive time before"):
        ReminderSchedule(others=(before,))


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="now must be an aware datetime"):
        reminders_due(Role.RGC, T0, T0.replace(tzinfo=None), [])


def test_reminders_count_to_the_end_of_the_last_day_in_the_zone() -> None:
    reunion_deadline = datetime(2025, 3, 10, 20, 0, tzinfo=UTC)  # midnight at UTC+4
    assert reminders_due(Role.USER, T0, reunion_deadline - 2 * DAY, [], zone=Zone.LA_REUNION) == [
        LapseReminder(
            before_deadline=2 * DAY, due_at=reunion_deadline - 2 * DAY, deadline=reunion_deadline
        )
    ]
