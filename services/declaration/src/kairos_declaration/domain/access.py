"""Who may declare for an organisation (K17), as plain data and one pure rule.

An account may declare for an organisation (OF) when

- the organisation is known here (its adhesion was validated) and its access is active: not
  suspended, withdrawn or expired (K2, K3), and its access period has not ended;
- and the account holds an active habilitation for it — activated, neither suspended (K14) nor
  ended (K13) — or is its RGC in office (K10).

Whether the token's session has ended or its account lapsed (K9, K6) is settled before this
rule (the caller is not authenticated any more), and opening hours (K4) after it: they are the
same for every OF role, and telling someone who may not declare at all when the platform opens
would mislead them.

The facts come from this service's own view of the identity and habilitation events
(:mod:`kairos_declaration.adapters.access_view`), never from a call to another service.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kairos_shared.clock import require_aware
from kairos_shared.zones import Zone


class Role(StrEnum):
    """The role a caller acts in (SPEC §1), as the identity service's token asserts it."""

    OPERATOR = "operator"
    HEAD = "head"
    RGC = "rgc"
    USER = "user"


class OrganisationStatus(StrEnum):
    """An organisation's access, as the identity service's events last described it."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


@dataclass(frozen=True)
class OrganisationAccess:
    """A validated organisation: its zone (for opening hours, K4) and its access."""

    zone: Zone
    status: OrganisationStatus
    access_expires_at: datetime | None = None

    def status_at(self, now: datetime) -> OrganisationStatus:
        """The status at `now`: an active access whose period is over has expired (K2), even
        before the identity service's `AdhesionExpired` arrives (or when a reinstatement came
        after the period ended)."""
        require_aware(now, "now")
        if (
            self.status is OrganisationStatus.ACTIVE
            and self.access_expires_at is not None
            and self.access_expires_at <= now
        ):
            return OrganisationStatus.EXPIRED
        return self.status


class HabilitationState(StrEnum):
    """One habilitation of the account for the organisation."""

    PENDING = "pending"
    """Known from an event that is not its activation (events of other keys come first)."""
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


def habilitation_state(*, activated: bool, suspended: bool, ended: bool) -> HabilitationState:
    """An ending is final; a suspension holds until reinstated; otherwise active once
    activated (K11, K13, K14)."""
    if ended:
        return HabilitationState.ENDED
    if suspended:
        return HabilitationState.SUSPENDED
    return HabilitationState.ACTIVE if activated else HabilitationState.PENDING


class RgcTenure(StrEnum):
    """The account's hold on the organisation's RGC post (K10)."""

    IN_OFFICE = "in_office"
    LEFT = "left"


def rgc_tenure(*, took_office: bool, vacated: bool) -> RgcTenure | None:
    """An account holds the post once (a new RGC always gets a new account), so a vacancy is
    final for it, whichever of the two events arrived first."""
    if vacated:
        return RgcTenure.LEFT
    return RgcTenure.IN_OFFICE if took_office else None


@dataclass(frozen=True)
class DeclarerFacts:
    """What this service knows about one account and one organisation."""

    organisation: OrganisationAccess | None
    """None: no validated adhesion known here (yet)."""
    habilitations: tuple[tuple[str, HabilitationState], ...] = ()
    """(habilitation id, state) of each of the account's habilitations for the organisation."""
    rgc: RgcTenure | None = None
    """None: the account never held the organisation's RGC post."""


class Refusal(StrEnum):
    """Why an account may not declare for an organisation."""

    ORGANISATION_UNKNOWN = "organisation_unknown"
    ORGANISATION_NOT_ACTIVE = "organisation_not_active"
    NO_HABILITATION = "no_habilitation"
    HABILITATION_SUSPENDED = "habilitation_suspended"
    HABILITATION_ENDED = "habilitation_ended"
    RGC_POST_LEFT = "rgc_post_left"

    @property
    def concerns_the_organisation(self) -> bool:
        return self in {Refusal.ORGANISATION_UNKNOWN, Refusal.ORGANISATION_NOT_ACTIVE}


REFUSAL_DETAILS = {
    Refusal.ORGANISATION_UNKNOWN: "the organisation's validated adhesion is not known here",
    Refusal.ORGANISATION_NOT_ACTIVE: "the organisation's access to the platform is not active",
    Refusal.NO_HABILITATION: "you hold no active habilitation for this organisation",
    Refusal.HABILITATION_SUSPENDED: (
        "your habilitation for this organisation is suspended until the RGC confirms it"
    ),
    Refusal.HABILITATION_ENDED: "your habilitation for this organisation has ended",
    Refusal.RGC_POST_LEFT: (
        "you no longer hold the organisation's RGC post and hold no active habilitation for it"
    ),
}
"""What each refusal says to the person refused."""


@dataclass(frozen=True)
class Allowed:
    """The account may declare for the organisation, by its habilitation or as its RGC."""

    zone: Zone
    habilitation_id: str | None = None
    as_rgc: bool = False


@dataclass(frozen=True)
class Refused:
    reason: Refusal
    organisation_status: OrganisationStatus | None = None

    @property
    def detail(self) -> str:
        detail = REFUSAL_DETAILS[self.reason]
        if self.organisation_status is not None:
            return f"{detail}: it is {self.organisation_status.value}"
        return detail


def may_declare(facts: DeclarerFacts, now: datetime) -> Allowed | Refused:
    """The rule of K17 (opening hours aside): an active organisation, and an active
    habilitation or the RGC post."""
    organisation = facts.organisation
    if organisation is None:
        return Refused(Refusal.ORGANISATION_UNKNOWN)
    status = organisation.status_at(now)
    if status is not OrganisationStatus.ACTIVE:
        return Refused(Refusal.ORGANISATION_NOT_ACTIVE, organisation_status=status)
    for habilitation_id, state in sorted(facts.habilitations):
        if state is HabilitationState.ACTIVE:
            return Allowed(organisation.zone, habilitation_id=habilitation_id)
    if facts.rgc is RgcTenure.IN_OFFICE:
        return Allowed(organisation.zone, as_rgc=True)
    return Refused(_why_not([state for _, state in facts.habilitations], rgc=facts.rgc))


def _why_not(states: Iterable[HabilitationState], *, rgc: RgcTenure | None) -> Refusal:
    """The refusal that tells the most: a suspension (it may come back), then an ending, then a
    post the account left."""
    found = set(states)
    if HabilitationState.SUSPENDED in found:
        return Refusal.HABILITATION_SUSPENDED
    if HabilitationState.ENDED in found:
        return Refusal.HABILITATION_ENDED
    if rgc is RgcTenure.LEFT:
        return Refusal.RGC_POST_LEFT
    return Refusal.NO_HABILITATION
