"""An organisation's access to the platform (K1-K3), as plain data and pure functions.

An adhesion request creates the organisation, *requested*. An operator's validation makes it
*active* for 3 years (K2); notices are due 90, 30 and 7 days before the end (configurable); at
the end it is *expired* until an operator renews it. An operator may *suspend* an active
organisation and reinstate it, or *withdraw* its access for good (K3, §8).

A request is never left hanging: an operator may *reject* it (with a reason), and one still
pending after a configured time (30 days by default) is *request_expired*. Only a *live*
organisation (requested, active or suspended) holds its SIRET: once its request is rejected or
expired, or its access expired or withdrawn, the same SIRET may apply again, as a new
organisation, the old one's history kept (K1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

ACCESS_YEARS = 3
DEFAULT_EXPIRY_NOTICE_DAYS = (90, 30, 7)
DEFAULT_REQUEST_VALIDITY = timedelta(days=30)
"""How long an adhesion request waits for an operator's decision before it expires (K1)."""


class OrganisationStatus(StrEnum):
    REQUESTED = "requested"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    REJECTED = "rejected"
    REQUEST_EXPIRED = "request_expired"


LIVE_STATUSES = frozenset(
    {OrganisationStatus.REQUESTED, OrganisationStatus.ACTIVE, OrganisationStatus.SUSPENDED}
)
"""The statuses that hold the organisation's SIRET: one live adhesion per SIRET (K1). Any other
(rejected, request expired, access expired, withdrawn) lets the SIRET apply again."""


class OrganisationStateError(ValueError):
    """The step is not allowed in the organisation's current status (a 409 for the API)."""


@dataclass(frozen=True)
class OrganisationAccess:
    """The part of an organisation its access rules look at."""

    status: OrganisationStatus
    access_expires_at: datetime | None = None
    expiry_notices_sent: frozenset[int] = frozenset()


def years_later(instant: datetime, years: int) -> datetime:
    """The same wall-clock instant ``years`` later; 29 February becomes 28 February."""
    try:
        return instant.replace(year=instant.year + years)
    except ValueError:
        return instant.replace(year=instant.year + years, day=28)


def _require(access: OrganisationAccess, step: str, *allowed: OrganisationStatus) -> None:
    if access.status not in allowed:
        wanted = " or ".join(status.value for status in allowed)
        raise OrganisationStateError(
            f"cannot {step} an organisation that is {access.status.value} (it must be {wanted})"
        )


def validate(access: OrganisationAccess, now: datetime) -> OrganisationAccess:
    _require(access, "validate", OrganisationStatus.REQUESTED)
    return OrganisationAccess(OrganisationStatus.ACTIVE, years_later(now, ACCESS_YEARS))


def renew(access: OrganisationAccess, now: datetime) -> OrganisationAccess:
    """A new 3-year period from now (or from the current end, if later)."""
    _require(access, "renew", OrganisationStatus.ACTIVE, OrganisationStatus.EXPIRED)
    start = max(now, access.access_expires_at or now)
    return OrganisationAccess(OrganisationStatus.ACTIVE, years_later(start, ACCESS_YEARS))


def suspend(access: OrganisationAccess) -> OrganisationAccess:
    _require(access, "suspend", OrganisationStatus.ACTIVE)
    return dataclasses.replace(access, status=OrganisationStatus.SUSPENDED)


def reinstate(access: OrganisationAccess, now: datetime) -> OrganisationAccess:
    _require(access, "reinstate", OrganisationStatus.SUSPENDED)
    if access.access_expires_at is not None and access.access_expires_at <= now:
        return dataclasses.replace(access, status=OrganisationStatus.EXPIRED)
    return dataclasses.replace(access, status=OrganisationStatus.ACTIVE)


def withdraw(access: OrganisationAccess) -> OrganisationAccess:
    _require(
        access,
        "withdraw",
        OrganisationStatus.ACTIVE,
        OrganisationStatus.SUSPENDED,
        OrganisationStatus.EXPIRED,
        OrganisationStatus.REQUESTED,
    )
    return dataclasses.replace(access, status=OrganisationStatus.WITHDRAWN)


def reject(access: OrganisationAccess) -> OrganisationAccess:
    """An operator turns the request down (K1); its SIRET may apply again."""
    _require(access, "reject", OrganisationStatus.REQUESTED)
    return dataclasses.replace(access, status=OrganisationStatus.REJECTED)


def request_has_expired(
    access: OrganisationAccess,
    requested_at: datetime,
    now: datetime,
    validity: timedelta = DEFAULT_REQUEST_VALIDITY,
) -> bool:
    """Whether a request still waiting for a decision has waited its whole validity (K1)."""
    return access.status is OrganisationStatus.REQUESTED and now >= requested_at + validity


def expire_request(access: OrganisationAccess) -> OrganisationAccess:
    _require(access, "expire the request of", OrganisationStatus.REQUESTED)
    return dataclasses.replace(access, status=OrganisationStatus.REQUEST_EXPIRED)


def has_expired(access: OrganisationAccess, now: datetime) -> bool:
    return (
        access.status is OrganisationStatus.ACTIVE
        and access.access_expires_at is not None
        and access.access_expires_at <= now
    )


def expiry_notices_due(
    access: OrganisationAccess,
    now: datetime,
    days_before: Iterable[int] = DEFAULT_EXPIRY_NOTICE_DAYS,
) -> list[int]:
    """The notices (days before the end) due now and not sent yet, the nearest end last.

    Only the most urgent due notice matters when several are due at once (a service down for
    weeks): earlier ones are reported too, so the caller can record them all as handled.
    """
    if access.status is not OrganisationStatus.ACTIVE or access.access_expires_at is None:
        return []
    remaining = access.access_expires_at - now
    if remaining <= timedelta(0):
        return []
    return sorted(
        (
            days
            for days in days_before
            if days not in access.expiry_notices_sent and remaining <= timedelta(days=days)
        ),
        reverse=True,
    )


def terms_date_is_plausible(accepted_on: date, today: date) -> bool:
    """Terms cannot be accepted in the future."""
    return accepted_on <= today
