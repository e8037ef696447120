"""Nominative habilitations: recorded, activated by their account, ended (K11, K12, K13).

The RGC records a habilitation for a named person (K11), backed by the written authorisation
the head signed: who signed, on which day, and the SHA-256 of the signed document (K12); the RGC
attests the person is an employee of the organisation (CGU §4.1.3), without which nothing is
recorded. The habilitation is *pending* until the identity service opens the person's account,
then *active*; it *ends* on departure, absence over 3 months, change of function, breach of the
terms (K13), an operator's demand (K15) or the annual review (K14). Ending is final.

Calendar dates (the signature's day) are the organisation zone's: "not after today" is today
where the OF is (La Réunion's 1 April begins at 20:00 UTC on 31 March).
"""

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from kairos_shared.clock import require_aware
from kairos_shared.email_addresses import is_email_address
from kairos_shared.zones import Zone

_SHA256: Final = re.compile(r"[0-9a-f]{64}")


class HabilitationRole(StrEnum):
    """What the habilitation makes its holder: the head of the OF, or a user (K11)."""

    HEAD = "head"
    USER = "user"


class HabilitationStatus(StrEnum):
    """Where a habilitation stands."""

    PENDING_ACCOUNT = "pending_account"
    ACTIVE = "active"
    ENDED = "ended"


class EndReason(StrEnum):
    """Why a habilitation ended: the values of `kairos_schemas.habilitation.EndReason`."""

    DEPARTURE = "departure"
    ABSENCE_OVER_3_MONTHS = "absence_over_3_months"
    CHANGE_OF_FUNCTION = "change_of_function"
    BREACH_OF_TERMS = "breach_of_terms"
    OPERATOR_DEMAND = "operator_demand"
    ANNUAL_REVIEW = "annual_review"


class InvalidHabilitationError(ValueError):
    """A habilitation was recorded with an invalid input, named by `field`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class HabilitationStateError(ValueError):
    """A life-cycle step was asked of a habilitation in a status that does not allow it."""


@dataclass(frozen=True, slots=True)
class HabilitatedPerson:
    """The named person a habilitation is for (K12: nominative)."""

    first_name: str
    last_name: str
    email: str


@dataclass(frozen=True, slots=True)
class SignedAuthorisation:
    """The written authorisation signed by the head (K12)."""

    signed_by: str
    signed_on: date
    document_sha256: str


@dataclass(frozen=True, slots=True)
class Habilitation:
    """One person's habilitation for one organisation, and where it stands."""

    id: str
    organisation_id: str
    role: HabilitationRole
    person: HabilitatedPerson
    function: str
    authorisation: SignedAuthorisation
    employee_attested: bool
    recorded_by: str
    recorded_at: datetime
    status: HabilitationStatus = HabilitationStatus.PENDING_ACCOUNT
    account_id: str | None = None
    ended_at: datetime | None = None
    end_reason: EndReason | None = None
    suspended_at: datetime | None = None

    @property
    def is_suspended(self) -> bool:
        """Suspended at the annual review's deadline (K14) and not confirmed since."""
        return self.suspended_at is not None and self.status is not HabilitationStatus.ENDED


def _require_text(value: str, field: str) -> None:
    if not value.strip():
        raise InvalidHabilitationError(field, "must not be blank")


def _check_person(person: HabilitatedPerson) -> None:
    _require_text(person.first_name, "person.first_name")
    _require_text(person.last_name, "person.last_name")
    if not is_email_address(person.email):
        raise InvalidHabilitationError("person.email", f"{person.email!r} is not an e-mail address")


def _check_authorisation(
    authorisation: SignedAuthorisation, recorded_at: datetime, zone: Zone
) -> None:
    _require_text(authorisation.signed_by, "authorisation.signed_by")
    if not _SHA256.fullmatch(authorisation.document_sha256):
        raise InvalidHabilitationError(
            "authorisation.document_sha256", "must be 64 lowercase hexadecimal digits"
        )
    recorded_on = recorded_at.astimezone(zone.time_zone).date()
    if authorisation.signed_on > recorded_on:
        raise InvalidHabilitationError(
            "authorisation.signed_on",
            f"{authorisation.signed_on} is after the recording day {recorded_on}",
        )


def record_habilitation(
    habilitation_id: str,
    organisation_id: str,
    *,
    role: HabilitationRole,
    person: HabilitatedPerson,
    function: str,
    authorisation: SignedAuthorisation,
    employee_attested: bool,
    recorded_by: str,
    recorded_at: datetime,
    zone: Zone = Zone.METROPOLITAN,
) -> Habilitation:
    """A new pending habilitation, once every input is valid (K11, K12).

    `recorded_at` is the current instant: a signature cannot be dated after its day in `zone`,
    the organisation's (nor in the future). Raises InvalidHabilitationError naming the first
    invalid field.
    """
    require_aware(recorded_at, "recorded_at")
    _require_text(habilitation_id, "habilitation_id")
    _require_text(organisation_id, "organisation_id")
    _require_text(recorded_by, "recorded_by")
    _check_person(person)
    _require_text(function, "function")
    _check_authorisation(authorisation, recorded_at, zone)
    if employee_attested is not True:
        raise InvalidHabilitationError(
            "employee_attested", "the RGC must attest the person is an employee of the OF"
        )
    return Habilitation(
        id=habilitation_id,
        organisation_id=organisation_id,
        role=role,
        person=person,
        function=function.strip(),
        authorisation=authorisation,
        employee_attested=employee_attested,
        recorded_by=recorded_by,
        recorded_at=recorded_at,
    )


def account_opened(habilitation: Habilitation, account_id: str) -> Habilitation:
    """The habilitation made active by its holder's account (idempotent for the same account)."""
    if not account_id.strip():
        raise InvalidHabilitationError("account_id", "must not be blank")
    if habilitation.status is HabilitationStatus.ENDED:
        raise HabilitationStateError(
            f"habilitation {habilitation.id} ended ({habilitation.end_reason}); "
            "no account can activate it"
        )
    if habilitation.account_id is not None and habilitation.account_id != account_id:
        raise HabilitationStateError(
            f"habilitation {habilitation.id} is already held by account "
            f"{habilitation.account_id}, not {account_id}"
        )
    return dataclasses.replace(
        habilitation, status=HabilitationStatus.ACTIVE, account_id=account_id
    )


def end(habilitation: Habilitation, reason: EndReason, now: datetime) -> Habilitation:
    """The habilitation ended at `now` for `reason`, pending or active (K13); ending is final."""
    require_aware(now, "now")
    if habilitation.status is HabilitationStatus.ENDED:
        raise HabilitationStateError(
            f"habilitation {habilitation.id} already ended at {habilitation.ended_at} "
            f"({habilitation.end_reason}); it cannot end again ({reason})"
        )
    if now < habilitation.recorded_at:
        raise InvalidHabilitationError(
            "ended_at",
            f"{now} is before the habilitation was recorded ({habilitation.recorded_at})",
        )
    return dataclasses.replace(
        habilitation, status=HabilitationStatus.ENDED, ended_at=now, end_reason=reason
    )


def suspend(habilitation: Habilitation, now: datetime) -> Habilitation:
    """The habilitation stops working without ending (K14 default "suspend"); idempotent."""
    require_aware(now, "now")
    if habilitation.status is HabilitationStatus.ENDED:
        raise HabilitationStateError(
            f"habilitation {habilitation.id} ended: it cannot be suspended"
        )
    if habilitation.is_suspended:
        return habilitation
    return dataclasses.replace(habilitation, suspended_at=now)


def reinstate(habilitation: Habilitation) -> Habilitation:
    """A suspended habilitation confirmed by the RGC: it works again."""
    if not habilitation.is_suspended:
        raise HabilitationStateError(f"habilitation {habilitation.id} is not suspended")
    return dataclasses.replace(habilitation, suspended_at=None)
