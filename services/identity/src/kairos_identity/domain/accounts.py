"""The account life cycle (K5-K7), as plain data and pure functions.

An account opens *provisional*, with platform-generated credentials (K11) that are valid 21 days for
an RGC and 7 days for anyone else (K6), counted in days of the OF's zone from the day they are
issued (shown to whoever hands them over) and ending at the end of the last day there: an operator
who validates at 22:00 does not shorten the RGC's last day. The provisional password can only be
used to set a new one; doing so makes the account *active*. Left unused past its deadline, the
account *lapses* by itself (a scheduler applies `lapse`). An account whose habilitation or
organisation ends is *disabled*. Locking after failed logins is not a status: it is throttling state
(K8).

A password must be changed when the platform asks (K7): provisional credentials, an operator's
reset, evidence of compromise. There is no periodic forced change. A reset of an active account
issues provisional credentials again, which expire on the same terms, but the account stays
active: only credentials never taken up make an account lapse. Lapsed and disabled are final.
"""

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from kairos_shared.clock import as_utc, require_aware
from kairos_shared.zones import Zone


class Role(StrEnum):
    """Who a person is on the platform (SPEC §1); integrators are systems, not accounts."""

    OPERATOR = "operator"
    HEAD = "head"
    RGC = "rgc"
    USER = "user"


class AccountStatus(StrEnum):
    """Where an account stands in its life cycle."""

    PROVISIONAL = "provisional"
    ACTIVE = "active"
    LAPSED = "lapsed"
    DISABLED = "disabled"


class PasswordChangeReason(StrEnum):
    """Why the platform asks for a new password (K7)."""

    PROVISIONAL = "provisional"
    OPERATOR_RESET = "operator_reset"
    COMPROMISE = "compromise"


class Capability(StrEnum):
    """What a login may lead to: the other services decide what the role itself allows."""

    CHANGE_PASSWORD = "change_password"  # noqa: S105  # a capability, not a password
    USE_PLATFORM = "use_platform"


class AccountStateError(ValueError):
    """A life-cycle step was asked of an account in a status that does not allow it."""


@dataclass(frozen=True, slots=True)
class ProvisionalValidity:
    """How long provisional credentials stay valid, by role (K6), from configuration."""

    rgc: timedelta = timedelta(days=21)
    others: timedelta = timedelta(days=7)

    def for_role(self, role: Role) -> timedelta:
        """The validity that applies to `role`."""
        return self.rgc if role is Role.RGC else self.others


@dataclass(frozen=True, slots=True)
class Account:
    """The life-cycle facts of an account; credentials themselves live elsewhere (K5)."""

    login_id: str
    role: Role
    status: AccountStatus
    provisional_issued_at: datetime | None = None
    """When the current provisional credentials were issued; None once replaced."""
    password_change_reason: PasswordChangeReason | None = None
    """Set while the platform asks for a new password."""
    zone: Zone = Zone.METROPOLITAN
    """The zone of the account's organisation, whose days its deadlines count (K6)."""

    def __post_init__(self) -> None:
        if self.provisional_issued_at is not None:
            require_aware(self.provisional_issued_at, "provisional_issued_at")
        elif self.status is AccountStatus.PROVISIONAL:
            raise ValueError(f"provisional account {self.login_id} needs provisional_issued_at")

    @property
    def must_change_password(self) -> bool:
        """Whether the next login may only set a new password (K7)."""
        return self.password_change_reason is not None


DEFAULT_VALIDITY: Final = ProvisionalValidity()


def provisional_deadline(
    role: Role,
    issued_at: datetime,
    validity: ProvisionalValidity = DEFAULT_VALIDITY,
    zone: Zone = Zone.METROPOLITAN,
) -> datetime:
    """The instant (UTC) provisional credentials issued at `issued_at` stop working (K6): the
    end of the last of their days in `zone` (the OF's; metropolitan for an operator). Issued on
    day D local, 21 days end at midnight between D + 21 and D + 22, local time."""
    issued_on = as_utc(issued_at, "issued_at").astimezone(zone.time_zone).date()
    last_day = issued_on + timedelta(days=validity.for_role(role).days)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone.time_zone)
    return end.astimezone(UTC)


def provisional_credentials_expired(
    account: Account, now: datetime, validity: ProvisionalValidity = DEFAULT_VALIDITY
) -> bool:
    """Whether the account holds provisional credentials whose deadline has passed."""
    require_aware(now, "now")
    if account.provisional_issued_at is None:
        return False
    deadline = provisional_deadline(
        account.role, account.provisional_issued_at, validity, account.zone
    )
    return now >= deadline


def has_lapsed(
    account: Account, now: datetime, validity: ProvisionalValidity = DEFAULT_VALIDITY
) -> bool:
    """Whether the account is lapsed, or is provisional and past its deadline (K6)."""
    if account.status is AccountStatus.LAPSED:
        return True
    return account.status is AccountStatus.PROVISIONAL and provisional_credentials_expired(
        account, now, validity
    )


def capabilities(
    account: Account, now: datetime, validity: ProvisionalValidity = DEFAULT_VALIDITY
) -> frozenset[Capability]:
    """What a successful login with the account's current password may do at `now`.

    Nothing for a lapsed or disabled account or expired provisional credentials; only
    changing the password while the platform asks for it (K6, K7); otherwise both.
    """
    if account.status in {AccountStatus.LAPSED, AccountStatus.DISABLED}:
        return frozenset()
    if provisional_credentials_expired(account, now, validity):
        return frozenset()
    if account.must_change_password:
        return frozenset({Capability.CHANGE_PASSWORD})
    return frozenset({Capability.CHANGE_PASSWORD, Capability.USE_PLATFORM})


def open_account(login_id: str, role: Role, issued_at: datetime) -> Account:
    """A new account with provisional credentials issued at `issued_at` (K6, K11)."""
    return Account(
        login_id=login_id,
        role=role,
        status=AccountStatus.PROVISIONAL,
        provisional_issued_at=require_aware(issued_at, "issued_at"),
        password_change_reason=PasswordChangeReason.PROVISIONAL,
    )


def _require_status(account: Account, step: str, *allowed: AccountStatus) -> None:
    if account.status not in allowed:
        raise AccountStateError(f"cannot {step} account {account.login_id}: it is {account.status}")


def change_password(
    account: Account, now: datetime, validity: ProvisionalValidity = DEFAULT_VALIDITY
) -> Account:
    """The account once its holder has set a new password: active, nothing more asked (K7)."""
    _require_status(
        account, "change the password of", AccountStatus.PROVISIONAL, AccountStatus.ACTIVE
    )
    if provisional_credentials_expired(account, now, validity):
        raise AccountStateError(
            f"cannot change the password of account {account.login_id}: "
            "its provisional credentials have expired"
        )
    return dataclasses.replace(
        account,
        status=AccountStatus.ACTIVE,
        provisional_issued_at=None,
        password_change_reason=None,
    )


def reset_by_operator(account: Account, issued_at: datetime) -> Account:
    """The account once an operator has issued new provisional credentials (K7).

    An active account stays active; a provisional one gets a fresh deadline. A lapsed or
    disabled account stays ended: other services have acted on its end (K6, K10), so the
    person gets a new account instead.
    """
    _require_status(account, "reset", AccountStatus.PROVISIONAL, AccountStatus.ACTIVE)
    return dataclasses.replace(
        account,
        provisional_issued_at=require_aware(issued_at, "issued_at"),
        password_change_reason=PasswordChangeReason.OPERATOR_RESET,
    )


def flag_compromised(account: Account) -> Account:
    """The account once its password is known or suspected to be compromised (K7).

    The next login may only set a new password. If the password may be in an attacker's hands,
    prefer `reset_by_operator`, which also invalidates it.
    """
    _require_status(account, "flag as compromised", AccountStatus.PROVISIONAL, AccountStatus.ACTIVE)
    if account.password_change_reason is not None:
        return account
    return dataclasses.replace(account, password_change_reason=PasswordChangeReason.COMPROMISE)


def lapse(
    account: Account, now: datetime, validity: ProvisionalValidity = DEFAULT_VALIDITY
) -> Account:
    """The account once its provisional deadline has passed unused (K6)."""
    _require_status(account, "lapse", AccountStatus.PROVISIONAL)
    if not provisional_credentials_expired(account, now, validity):
        raise AccountStateError(
            f"cannot lapse account {account.login_id}: its provisional deadline has not passed"
        )
    return dataclasses.replace(account, status=AccountStatus.LAPSED)


def disable(account: Account) -> Account:
    """The account once its habilitation or its organisation's access has ended (K3, K13)."""
    return dataclasses.replace(account, status=AccountStatus.DISABLED, provisional_issued_at=None)


def has_ended(status: AccountStatus) -> bool:
    """Whether the account is over for good: lapsed and disabled are final (K6, K13), so an
    event that would end it again (an RGC post vacated, K10) changes nothing."""
    return status in {AccountStatus.LAPSED, AccountStatus.DISABLED}


def credential_handlers(role: Role) -> frozenset[Role]:
    """Who in the account's own organisation may retrieve and hand over the provisional
    credentials of a `role` account (K11): the RGC, or the head, who holds the RGC's rights
    while the post is vacant (K10). Nobody for an RGC: a new RGC is designated on the same
    terms as the first (CGU §4.1), its credentials handed over by the validating operator."""
    if role is Role.RGC:
        return frozenset()
    return frozenset({Role.RGC, Role.HEAD})
