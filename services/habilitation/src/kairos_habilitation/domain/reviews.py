"""The annual review of an organisation's habilitations (K14).

Once a year (CGU §4.2) a campaign opens on the anniversary of the organisation's validation, at
the same local time (an OF validated on 29 February reviews on 28 February in other years). It
lasts a configured period (default 30 days); reminders go out a configured number of days before
its deadline (default 14 and 3), each at most once. The RGC confirms or ends each habilitation
listed when the campaign opened; at the deadline, those left undecided get the configured
default: flagged to the operator, or suspended. The functions below decide; the service layer
sends, stores and publishes.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from kairos_habilitation.domain.calendar_months import MONTHS_PER_YEAR, add_months
from kairos_shared.clock import as_utc, require_aware


class ReviewDefault(StrEnum):
    """What happens to a habilitation still undecided at the deadline (K14)."""

    FLAG_TO_OPERATOR = "flag_to_operator"
    SUSPEND = "suspend"


class ReviewDecision(StrEnum):
    """The RGC's decision on one habilitation during the campaign."""

    CONFIRMED = "confirmed"
    ENDED = "ended"


class ReviewError(ValueError):
    """A campaign or a decision that the rules do not allow."""


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """The configured shape of every campaign."""

    period: timedelta = timedelta(days=30)
    reminder_days_before: tuple[int, ...] = (14, 3)
    default: ReviewDefault = ReviewDefault.FLAG_TO_OPERATOR

    def __post_init__(self) -> None:
        if self.period <= timedelta(0):
            raise ReviewError("the review period must be positive")
        for days in self.reminder_days_before:
            if not timedelta(0) < timedelta(days=days) < self.period:
                raise ReviewError(
                    f"a reminder {days} days before the deadline is not in the period"
                )
        if len(set(self.reminder_days_before)) != len(self.reminder_days_before):
            raise ReviewError("reminder days must be distinct")


@dataclass(frozen=True, slots=True)
class ReviewCampaign:
    """One organisation's campaign for one year, over the habilitations active at its opening."""

    organisation_id: str
    year: int
    opens_at: datetime
    deadline: datetime
    habilitation_ids: frozenset[str]
    reminder_days_before: tuple[int, ...] = field(default=(14, 3))


def campaign_opening(validated_at: datetime, year: int) -> datetime:
    """When the campaign of `year` opens: the validation's anniversary, same local time."""
    require_aware(validated_at, "validated_at")
    if year <= validated_at.year:
        raise ReviewError(f"the first review is the year after validation ({validated_at.year})")
    day = add_months(validated_at.date(), (year - validated_at.year) * MONTHS_PER_YEAR)
    return validated_at.replace(year=day.year, month=day.month, day=day.day)


def open_campaign(
    organisation_id: str,
    validated_at: datetime,
    year: int,
    habilitation_ids: Collection[str],
    policy: ReviewPolicy | None = None,
) -> ReviewCampaign:
    """The campaign of `year` for the habilitations active when it opens."""
    policy = policy or ReviewPolicy()
    opens_at = campaign_opening(validated_at, year)
    return ReviewCampaign(
        organisation_id=organisation_id,
        year=year,
        opens_at=opens_at,
        deadline=as_utc(opens_at, "opens_at") + policy.period,
        habilitation_ids=frozenset(habilitation_ids),
        reminder_days_before=policy.reminder_days_before,
    )


def reminders_due(
    campaign: ReviewCampaign, now: datetime, already_sent: Collection[int]
) -> tuple[int, ...]:
    """The reminders (days before the deadline) due at `now` and not sent yet, most urgent last.

    None once the deadline passed. When several fell due together (the service was down), all
    are returned: the caller sends one reminder and records every returned one as sent.
    """
    require_aware(now, "now")
    if deadline_passed(campaign, now):
        return ()
    due = [
        days
        for days in campaign.reminder_days_before
        if days not in already_sent and now >= campaign.deadline - timedelta(days=days)
    ]
    return tuple(sorted(due, reverse=True))


def deadline_passed(campaign: ReviewCampaign, now: datetime) -> bool:
    """Whether the campaign's deadline has come: decisions are closed from that instant."""
    return require_aware(now, "now") >= campaign.deadline


def decide(
    campaign: ReviewCampaign,
    decisions: Mapping[str, ReviewDecision],
    habilitation_id: str,
    decision: ReviewDecision,
    now: datetime,
) -> dict[str, ReviewDecision]:
    """The decisions with the RGC's decision on `habilitation_id` (the latest one counts)."""
    if habilitation_id not in campaign.habilitation_ids:
        raise ReviewError(f"habilitation {habilitation_id} is not under this campaign's review")
    if require_aware(now, "now") < campaign.opens_at:
        raise ReviewError(f"the campaign opens at {campaign.opens_at}")
    if deadline_passed(campaign, now):
        raise ReviewError(f"the campaign closed at {campaign.deadline}")
    return {**decisions, habilitation_id: decision}


def undecided(campaign: ReviewCampaign, decisions: Mapping[str, ReviewDecision]) -> list[str]:
    """The habilitations under review the RGC has not decided on yet, sorted."""
    return sorted(campaign.habilitation_ids - decisions.keys())


def apply_default(
    campaign: ReviewCampaign, decisions: Mapping[str, ReviewDecision], default: ReviewDefault
) -> list[tuple[str, ReviewDefault]]:
    """What happens to each undecided habilitation: `default` (call once `deadline_passed`)."""
    return [(habilitation_id, default) for habilitation_id in undecided(campaign, decisions)]
