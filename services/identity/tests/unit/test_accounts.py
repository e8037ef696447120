"""K5-K7: provisional credentials, lapse, and when a password must be changed."""

import dataclasses
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from kairos_identity.domain.accounts import (
    Account,
    AccountStateError,
    AccountStatus,
    Capability,
    PasswordChangeReason,
    ProvisionalValidity,
    Role,
    capabilities,
    change_password,
    credential_handlers,
    disable,
    flag_compromised,
    has_ended,
    has_lapsed,
    lapse,
    open_account,
    provisional_credentials_expired,
    provisional_deadline,
    reset_by_operator,
)
from kairos_shared.zones import Zone

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # 10:00 in Paris
PARIS = ZoneInfo("Europe/Paris")


def end_of_day_after(issued_at: datetime, days: int, zone: Zone = Zone.METROPOLITAN) -> datetime:
    """Midnight local at the end of the `days`-th day after `issued_at`'s local day (K6)."""
    last_day = issued_at.astimezone(zone.time_zone).date() + timedelta(days=days)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone.time_zone)


TICK = timedelta(microseconds=1)
ONLY_CHANGE = frozenset({Capability.CHANGE_PASSWORD})
EVERYTHING = frozenset({Capability.CHANGE_PASSWORD, Capability.USE_PLATFORM})


def active(role: Role = Role.USER) -> Account:
    return change_password(open_account("jdupont", role, T0), T0 + timedelta(hours=1))


# validity and deadlines


def test_the_roles_and_statuses() -> None:
    assert [role.value for role in Role] == ["operator", "head", "rgc", "user"]
    assert [status.value for status in AccountStatus] == [
        "provisional",
        "active",
        "lapsed",
        "disabled",
    ]


@pytest.mark.parametrize(
    ("role", "days"), [(Role.RGC, 21), (Role.USER, 7), (Role.HEAD, 7), (Role.OPERATOR, 7)]
)
def test_provisional_credentials_last_21_days_for_an_rgc_and_7_for_others(
    role: Role, days: int
) -> None:
    assert provisional_deadline(role, T0) == end_of_day_after(T0, days)


def test_the_validity_comes_from_configuration() -> None:
    validity = ProvisionalValidity(rgc=timedelta(days=30), others=timedelta(days=10))

    assert provisional_deadline(Role.RGC, T0, validity) == end_of_day_after(T0, 30)
    assert provisional_deadline(Role.HEAD, T0, validity) == end_of_day_after(T0, 10)


def test_the_deadline_is_the_end_of_the_last_day_even_across_summer_time() -> None:
    issued_at = datetime(2025, 3, 28, 10, 0, tzinfo=PARIS)

    deadline = provisional_deadline(Role.USER, issued_at)

    assert deadline == datetime(2025, 4, 4, 22, 0, tzinfo=UTC)  # midnight in Paris, summer time
    assert deadline.utcoffset() == timedelta(0)


def test_a_validation_at_22_00_does_not_shorten_the_last_day() -> None:
    morning = datetime(2026, 3, 2, 8, 0, tzinfo=PARIS)
    evening = datetime(2026, 3, 2, 22, 0, tzinfo=PARIS)

    assert provisional_deadline(Role.RGC, evening) == provisional_deadline(Role.RGC, morning)
    assert provisional_deadline(Role.RGC, evening) == datetime(2026, 3, 24, 0, 0, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("zone", "local_end"),
    [
        (Zone.LA_REUNION, datetime(2026, 3, 10, 0, 0, tzinfo=ZoneInfo("Indian/Reunion"))),
        (Zone.GUADELOUPE, datetime(2026, 3, 10, 0, 0, tzinfo=ZoneInfo("America/Guadeloupe"))),
    ],
)
def test_the_days_are_the_zones_own(zone: Zone, local_end: datetime) -> None:
    # 2 March 2026, 23:30 UTC: already 3 March in La Réunion, still 2 March in Guadeloupe.
    issued_at = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    if zone is Zone.LA_REUNION:
        local_end += timedelta(days=1)

    assert provisional_deadline(Role.USER, issued_at, zone=zone) == local_end


def test_naive_times_are_refused() -> None:
    naive = T0.replace(tzinfo=None)

    with pytest.raises(ValueError, match="issued_at must be an aware datetime"):
        provisional_deadline(Role.USER, naive)
    with pytest.raises(ValueError, match="issued_at must be an aware datetime"):
        open_account("jdupont", Role.USER, naive)
    with pytest.raises(ValueError, match="now must be an aware datetime"):
        has_lapsed(open_account("jdupont", Role.USER, T0), naive)


# opening and lapsing


def test_a_new_account_is_provisional_and_must_change_its_password() -> None:
    account = open_account("jdupont", Role.RGC, T0)

    assert account == Account(
        login_id="jdupont",
        role=Role.RGC,
        status=AccountStatus.PROVISIONAL,
        provisional_issued_at=T0,
        password_change_reason=PasswordChangeReason.PROVISIONAL,
    )
    assert account.must_change_password


def test_a_provisional_password_may_only_be_used_to_set_a_new_one() -> None:
    account = open_account("jdupont", Role.USER, T0)

    assert capabilities(account, T0 + timedelta(days=1)) == ONLY_CHANGE


@pytest.mark.parametrize(("role", "days"), [(Role.RGC, 21), (Role.USER, 7)])
def test_a_provisional_account_lapses_at_its_deadline(role: Role, days: int) -> None:
    account = open_account("jdupont", role, T0)
    deadline = end_of_day_after(T0, days)

    assert not has_lapsed(account, deadline - TICK)
    assert has_lapsed(account, deadline)
    assert capabilities(account, deadline) == frozenset()


def test_lapse_marks_the_account_lapsed_once_the_deadline_has_passed() -> None:
    account = open_account("jdupont", Role.RGC, T0)

    lapsed = lapse(account, end_of_day_after(T0, 21))

    assert lapsed.status is AccountStatus.LAPSED
    assert has_lapsed(lapsed, T0)
    assert capabilities(lapsed, T0) == frozenset()


def test_an_account_cannot_lapse_before_its_deadline() -> None:
    with pytest.raises(
        AccountStateError,
        match="cannot lapse account jdupont: its provisional deadline has not passed",
    ):
        lapse(open_account("jdupont", Role.RGC, T0), T0 + timedelta(days=20))


def test_an_active_account_never_lapses() -> None:
    account = active()

    assert not has_lapsed(account, T0 + timedelta(days=3650))
    with pytest.raises(AccountStateError, match="cannot lapse account jdupont: it is active"):
        lapse(account, T0 + timedelta(days=3650))


# changing the password


def test_setting_a_new_password_activates_the_account() -> None:
    account = active(Role.RGC)

    assert account.status is AccountStatus.ACTIVE
    assert account.provisional_issued_at is None
    assert not account.must_change_password
    assert capabilities(account, T0 + timedelta(days=400)) == EVERYTHING


def test_an_expired_provisional_password_cannot_set_a_new_one() -> None:
    with pytest.raises(
        AccountStateError,
        match="cannot change the password of account jdupont: "
        "its provisional credentials have expired",
    ):
        change_password(open_account("jdupont", Role.USER, T0), end_of_day_after(T0, 7))


@pytest.mark.parametrize("status", [AccountStatus.LAPSED, AccountStatus.DISABLED])
def test_an_ended_account_cannot_change_its_password(status: AccountStatus) -> None:
    account = dataclasses.replace(open_account("jdupont", Role.USER, T0), status=status)

    with pytest.raises(
        AccountStateError, match=f"cannot change the password of account jdupont: it is {status}"
    ):
        change_password(account, T0)


def test_there_is_no_periodic_forced_change() -> None:
    account = active()

    assert not account.must_change_password
    assert capabilities(account, T0 + timedelta(days=10 * 365)) == EVERYTHING


# operator reset and compromise


def test_an_operator_reset_asks_for_a_new_password_and_keeps_the_account_active() -> None:
    reset_at = T0 + timedelta(days=100)

    account = reset_by_operator(active(), reset_at)

    assert account.status is AccountStatus.ACTIVE
    assert account.password_change_reason is PasswordChangeReason.OPERATOR_RESET
    assert account.provisional_issued_at == reset_at
    assert capabilities(account, reset_at) == ONLY_CHANGE


def test_reset_credentials_expire_without_lapsing_an_active_account() -> None:
    reset_at = T0 + timedelta(days=100)
    account = reset_by_operator(active(), reset_at)
    expiry = end_of_day_after(reset_at, 7)

    assert provisional_credentials_expired(account, expiry)
    assert not has_lapsed(account, expiry)
    assert capabilities(account, expiry) == frozenset()


def test_a_reset_of_a_provisional_account_gives_a_fresh_deadline() -> None:
    reset_at = T0 + timedelta(days=6)
    account = reset_by_operator(open_account("jdupont", Role.USER, T0), reset_at)

    assert account.status is AccountStatus.PROVISIONAL
    assert not has_lapsed(account, end_of_day_after(T0, 8))
    assert has_lapsed(account, end_of_day_after(reset_at, 7))


def test_changing_the_password_after_a_reset_clears_the_request() -> None:
    reset_at = T0 + timedelta(days=100)

    account = change_password(reset_by_operator(active(), reset_at), reset_at + timedelta(hours=2))

    assert account.password_change_reason is None
    assert account.provisional_issued_at is None
    assert capabilities(account, reset_at + timedelta(hours=3)) == EVERYTHING


@pytest.mark.parametrize("status", [AccountStatus.LAPSED, AccountStatus.DISABLED])
def test_an_ended_account_cannot_be_reset(status: AccountStatus) -> None:
    account = dataclasses.replace(active(), status=status)

    with pytest.raises(AccountStateError, match=f"cannot reset account jdupont: it is {status}"):
        reset_by_operator(account, T0)


def test_evidence_of_compromise_asks_for_a_new_password() -> None:
    account = flag_compromised(active())

    assert account.password_change_reason is PasswordChangeReason.COMPROMISE
    assert account.status is AccountStatus.ACTIVE
    assert capabilities(account, T0 + timedelta(days=1)) == ONLY_CHANGE


def test_a_pending_request_keeps_its_reason_when_compromise_is_flagged() -> None:
    account = open_account("jdupont", Role.USER, T0)

    assert flag_compromised(account) == account


def test_an_ended_account_cannot_be_flagged() -> None:
    account = disable(active())

    with pytest.raises(
        AccountStateError, match="cannot flag as compromised account jdupont: it is disabled"
    ):
        flag_compromised(account)


# disabling and invariants


def test_a_disabled_account_can_do_nothing() -> None:
    account = disable(open_account("jdupont", Role.USER, T0))

    assert account.status is AccountStatus.DISABLED
    assert account.provisional_issued_at is None
    assert capabilities(account, T0) == frozenset()
    assert not has_lapsed(account, T0 + timedelta(days=30))


def test_a_provisional_account_needs_its_issuing_time() -> None:
    with pytest.raises(ValueError, match="provisional account jdupont needs provisional_issued_at"):
        Account(login_id="jdupont", role=Role.USER, status=AccountStatus.PROVISIONAL)


def test_a_naive_issuing_time_is_refused() -> None:
    with pytest.raises(ValueError, match="provisional_issued_at must be an aware datetime"):
        Account(
            login_id="jdupont",
            role=Role.USER,
            status=AccountStatus.ACTIVE,
            provisional_issued_at=T0.replace(tzinfo=None),
        )


# ended accounts and who hands credentials over


@pytest.mark.parametrize(
    ("status", "ended"),
    [
        (AccountStatus.PROVISIONAL, False),
        (AccountStatus.ACTIVE, False),
        (AccountStatus.LAPSED, True),
        (AccountStatus.DISABLED, True),
    ],
)
def test_lapsed_and_disabled_accounts_have_ended(status: AccountStatus, ended: bool) -> None:
    assert has_ended(status) is ended


def test_only_the_head_hands_over_a_designated_rgc_s_credentials() -> None:
    assert credential_handlers(Role.RGC) == frozenset()
    assert credential_handlers(Role.USER) == {Role.RGC, Role.HEAD}
    assert credential_handlers(Role.HEAD) == {Role.RGC, Role.HEAD}
