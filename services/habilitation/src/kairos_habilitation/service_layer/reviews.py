"""Annual review campaigns (K14): a campaign opens on the anniversary of the organisation's
validation (or at once, by an operator) over its live habilitations — pending and active, as
both give or will give access; the RGC confirms or ends each one; reminders go out while
decisions are missing; at the deadline what is left undecided is flagged to the operators or
suspended, as configured (`review_deadlines`). A habilitation ended meanwhile by any means
counts as decided ("ended")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from kairos_habilitation.adapters import habilitations
from kairos_habilitation.adapters import reviews as campaigns
from kairos_habilitation.adapters.reviews import (
    CampaignState,
    ReviewItem,
    StoredCampaign,
)
from kairos_habilitation.domain import habilitations as habilitation_rules
from kairos_habilitation.domain import reviews as rules
from kairos_habilitation.domain.habilitations import Habilitation, HabilitationStatus
from kairos_habilitation.domain.reviews import ReviewDecision
from kairos_habilitation.service_layer import habilitations as habilitation_steps
from kairos_habilitation.service_layer.access import (
    Actor,
    reader_scope,
    require_operator,
    rights_holder_scope,
)
from kairos_habilitation.service_layer.context import SOURCE, HabilitationContext
from kairos_habilitation.service_layer.habilitations import conflict, not_found
from kairos_schemas import habilitation as events
from kairos_shared import outbox
from kairos_shared.db import Connection
from kairos_shared.problems import FieldError, Problem, invalid_fields


@dataclass(frozen=True)
class Decision:
    habilitation_id: uuid.UUID
    decision: ReviewDecision
    reason: str | None = None


def campaign_not_found(detail: str) -> Problem:
    return Problem(status=404, title="No such review campaign", detail=detail, type="not-found")


async def state_of(connection: Connection, campaign: StoredCampaign) -> CampaignState:
    return CampaignState(campaign, await campaigns.items(connection, campaign.id))


async def open_campaign(connection: Connection, campaign: StoredCampaign) -> bool:
    """Open `campaign` over its organisation's live habilitations (locked, so none ends
    unseen); False when the organisation has one for that year, or one open, already."""
    live = await habilitations.live_of_organisation(
        connection, campaign.organisation_id, for_update=True
    )
    if not await campaigns.insert(connection, campaign, [uuid.UUID(h.id) for h in live]):
        return False
    event = events.ReviewCampaignOpened(
        organisation_id=str(campaign.organisation_id), campaign_id=str(campaign.id),
        year=campaign.year, opens_at=campaign.opens_at, deadline=campaign.deadline,
        habilitation_ids=[h.id for h in live],
    )  # fmt: skip
    await outbox.publish(connection, [event], source=SOURCE)
    return True


async def open_now(
    context: HabilitationContext, actor: Actor, organisation_id: uuid.UUID
) -> CampaignState:
    """An operator opens the organisation's review at once (409 when one is open, or the
    organisation had its review this year already: one campaign per year)."""
    require_operator(actor)
    now, policy = context.clock.now(), context.review_policy
    async with context.pool.acquire() as connection, connection.transaction():
        await reader_scope(context, connection, actor, organisation_id)
        campaign = StoredCampaign(
            id=uuid.uuid4(), organisation_id=organisation_id, year=now.astimezone(UTC).year,
            opens_at=now, deadline=now + policy.period,
            reminder_days=policy.reminder_days_before, opened_by=uuid.UUID(actor.account_id),
        )  # fmt: skip
        if not await open_campaign(connection, campaign):
            raise conflict(
                f"the organisation has a review campaign open, or had one in {campaign.year}",
                "review-campaign-exists",
            )
        return await state_of(connection, campaign)


async def current(
    context: HabilitationContext, actor: Actor, organisation_id: uuid.UUID
) -> CampaignState:
    """The organisation's latest campaign (open or closed), its decisions and what is left."""
    async with context.pool.acquire() as connection, connection.transaction(readonly=True):
        await reader_scope(context, connection, actor, organisation_id)
        campaign = await campaigns.latest_of_organisation(connection, organisation_id)
        if campaign is None:
            raise campaign_not_found(f"organisation {organisation_id} has had no review yet")
        return await state_of(connection, campaign)


def _check_decision(state: CampaignState, decision: Decision, now: datetime) -> None:
    if state.campaign.closed_at is not None or rules.deadline_passed(state.under_review, now):
        raise conflict(
            f"the review closed at {state.campaign.deadline.isoformat()}: no more decisions",
            "review-closed",
        )
    if str(decision.habilitation_id) not in state.under_review.habilitation_ids:
        raise invalid_fields(
            [FieldError("habilitation_id", "this habilitation is not under this review")]
        )
    try:
        rules.decide(
            state.under_review, state.decisions, str(decision.habilitation_id),
            decision.decision, now,
        )  # fmt: skip
    except rules.ReviewError as error:
        raise conflict(str(error), "review-closed") from None


async def decide(
    context: HabilitationContext, actor: Actor, campaign_id: uuid.UUID, decision: Decision
) -> ReviewItem:
    """The rights holder confirms or ends one habilitation under review (the latest decision
    counts); ending it is immediate everywhere (HabilitationEnded, reason annual_review), and
    confirming a suspended one reinstates it."""
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        campaign = await campaigns.get(connection, campaign_id, for_update=True)
        if campaign is None:
            raise campaign_not_found(f"no review campaign {campaign_id}")
        await rights_holder_scope(context, connection, actor, campaign.organisation_id)
        _check_decision(await state_of(connection, campaign), decision, now)
        habilitation = await habilitations.get(
            connection, decision.habilitation_id, for_update=True
        )
        assert habilitation is not None  # under review, hence stored
        await _apply_decision(connection, habilitation, decision.decision, now, actor.account_id)
        await campaigns.decide(
            connection, campaign_id, decision.habilitation_id, decision.decision,
            reason=decision.reason, by=uuid.UUID(actor.account_id), at=now,
        )  # fmt: skip
        reviewed = events.HabilitationReviewed(
            organisation_id=str(campaign.organisation_id), campaign_id=str(campaign_id),
            habilitation_id=habilitation.id, decision=decision.decision.value,
            decided_by=actor.account_id, decided_at=now,
        )  # fmt: skip
        await outbox.publish(connection, [reviewed], source=SOURCE)
        state = await state_of(connection, campaign)
    return next(i for i in state.items if i.habilitation_id == habilitation.id)


async def _apply_decision(
    connection: Connection,
    habilitation: Habilitation,
    decision: ReviewDecision,
    now: datetime,
    by: str,
) -> None:
    if habilitation.status is HabilitationStatus.ENDED:
        raise conflict(f"habilitation {habilitation.id} has ended ({habilitation.end_reason})")
    if decision is ReviewDecision.ENDED:
        await habilitation_steps.end(
            connection, habilitation, habilitation_rules.EndReason.ANNUAL_REVIEW, now, by=by
        )
    elif habilitation.is_suspended:
        await _reinstate(connection, habilitation, now, by)


async def reinstate(
    context: HabilitationContext, actor: Actor, habilitation_id: uuid.UUID
) -> Habilitation:
    """The rights holder confirms a habilitation suspended at a review's deadline (K14)."""
    async with context.pool.acquire() as connection, connection.transaction():
        habilitation = await habilitations.get(connection, habilitation_id, for_update=True)
        if habilitation is None:
            raise not_found(habilitation_id)
        await rights_holder_scope(
            context, connection, actor, uuid.UUID(habilitation.organisation_id)
        )
        return await _reinstate(connection, habilitation, context.clock.now(), actor.account_id)


async def _reinstate(
    connection: Connection, habilitation: Habilitation, now: datetime, by: str
) -> Habilitation:
    try:
        back = habilitation_rules.reinstate(habilitation)
    except habilitation_rules.HabilitationStateError as error:
        raise conflict(str(error)) from None
    await habilitations.save(connection, back, now=now)
    event = events.HabilitationReinstated(
        habilitation_id=back.id, organisation_id=back.organisation_id,
        account_id=back.account_id, reinstated_at=now, reinstated_by=by,
    )  # fmt: skip
    await outbox.publish(connection, [event], source=SOURCE)
    return back
