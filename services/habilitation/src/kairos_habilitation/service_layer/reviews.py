"""Annual review campaigns (K14): a campaign opens on the anniversary of the organisation's
validation (or at once, by an operator) over its live habilitations — pending and active, as
both give or will give access; the RGC confirms or ends each one; reminders go out while
decisions are missing; at the deadline what is left undecided is flagged to the operators or
suspended, as configured. A habilitation ended meanwhile by any means counts as decided
("ended"). Schedulers claim rows with SKIP LOCKED and record what they did in the transaction
that publishes it, so several replicas never send an event twice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from kairos_habilitation.adapters import habilitations
from kairos_habilitation.adapters import reviews as campaigns
from kairos_habilitation.adapters.reviews import (
    CampaignState,
    DueOrganisation,
    ReviewItem,
    StoredCampaign,
)
from kairos_habilitation.domain import habilitations as habilitation_rules
from kairos_habilitation.domain import reviews as rules
from kairos_habilitation.domain.habilitations import Habilitation, HabilitationStatus
from kairos_habilitation.domain.reviews import ReviewDecision, ReviewDefault, ReviewPolicy
from kairos_habilitation.service_layer import habilitations as habilitation_steps
from kairos_habilitation.service_layer.access import (
    Actor,
    reader_scope,
    require_operator,
    rights_holder_scope,
)
from kairos_habilitation.service_layer.context import SOURCE, HabilitationContext
from kairos_habilitation.service_layer.habilitations import conflict, not_found
from kairos_schemas import Event
from kairos_schemas import habilitation as events
from kairos_shared import outbox
from kairos_shared.db import Connection
from kairos_shared.problems import FieldError, Problem, invalid_fields

OVERDUE = "annual_review_overdue"


@dataclass(frozen=True)
class Decision:
    habilitation_id: uuid.UUID
    decision: ReviewDecision
    reason: str | None = None


def campaign_not_found(detail: str) -> Problem:
    return Problem(status=404, title="No such review campaign", detail=detail, type="not-found")


async def _state(connection: Connection, campaign: StoredCampaign) -> CampaignState:
    return CampaignState(campaign, await campaigns.items(connection, campaign.id))


async def _open(connection: Connection, campaign: StoredCampaign) -> bool:
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


def _anniversary(
    organisation: DueOrganisation, year: int, policy: ReviewPolicy, now: datetime
) -> StoredCampaign | None:
    """The campaign of `year` if it should be running at `now` (the domain decides)."""
    opened = rules.open_campaign(str(organisation.id), organisation.validated_at, year, (), policy)
    if not opened.opens_at <= now < opened.deadline:
        return None
    return StoredCampaign(
        id=uuid.uuid4(), organisation_id=organisation.id, year=year, opens_at=opened.opens_at,
        deadline=opened.deadline, reminder_days=opened.reminder_days_before,
    )  # fmt: skip


async def open_due_campaigns(context: HabilitationContext) -> int:
    """One scheduler round: open the campaign of every active organisation whose anniversary
    came (this year's, or last year's still running) and has none; how many opened."""
    now = context.clock.now()
    year = now.astimezone(UTC).year
    return await _open_due(context, year - 1, now) + await _open_due(context, year, now)


async def _open_due(context: HabilitationContext, year: int, now: datetime) -> int:
    opened, after, policy = 0, None, context.review_policy
    while True:
        async with context.pool.acquire() as connection, connection.transaction():
            due = await campaigns.claim_organisations_due(
                connection, year, now, policy.period, after=after, limit=context.batch_size
            )
            for organisation in due:
                campaign = _anniversary(organisation, year, policy, now)
                if campaign is not None and await _open(connection, campaign):
                    opened += 1
        if len(due) < context.batch_size:
            return opened
        after = due[-1].id


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
        if not await _open(connection, campaign):
            raise conflict(
                f"the organisation has a review campaign open, or had one in {campaign.year}",
                "review-campaign-exists",
            )
        return await _state(connection, campaign)


async def current(
    context: HabilitationContext, actor: Actor, organisation_id: uuid.UUID
) -> CampaignState:
    """The organisation's latest campaign (open or closed), its decisions and what is left."""
    async with context.pool.acquire() as connection, connection.transaction(readonly=True):
        await reader_scope(context, connection, actor, organisation_id)
        campaign = await campaigns.latest_of_organisation(connection, organisation_id)
        if campaign is None:
            raise campaign_not_found(f"organisation {organisation_id} has had no review yet")
        return await _state(connection, campaign)


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
        _check_decision(await _state(connection, campaign), decision, now)
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
        state = await _state(connection, campaign)
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


async def remind_and_close(context: HabilitationContext) -> dict[str, int]:
    """One scheduler round: each reminder that fell due is handled once (one ReviewReminder
    while decisions are missing), and each campaign whose deadline came is closed with the
    configured default; the reminders sent and the campaigns closed."""
    counts, after = {"reminders": 0, "closed": 0}, None
    while True:
        now = context.clock.now()
        async with context.pool.acquire() as connection, connection.transaction():
            due = await campaigns.claim_due(connection, now, after, context.batch_size)
            for campaign in due:
                state = await _state(connection, campaign)
                if rules.deadline_passed(state.under_review, now):
                    await _close(connection, state, context.review_policy.default, now)
                    counts["closed"] += 1
                else:
                    counts["reminders"] += await _remind(connection, state, now)
        if len(due) < context.batch_size:
            return counts
        after = due[-1].id


async def _remind(connection: Connection, state: CampaignState, now: datetime) -> int:
    """The reminders due, recorded as handled; one event (the most urgent one) when several
    fell due together, none when every habilitation is decided."""
    due = rules.reminders_due(state.under_review, now, state.campaign.reminders_sent)
    if not due:
        return 0
    await campaigns.mark_reminders(connection, state.campaign.id, due)
    undecided = state.undecided
    if not undecided:
        return 0
    reminder = events.ReviewReminder(
        organisation_id=str(state.campaign.organisation_id), campaign_id=str(state.campaign.id),
        deadline=state.campaign.deadline, days_before=due[-1], undecided=len(undecided),
    )  # fmt: skip
    await outbox.publish(connection, [reminder], source=SOURCE)
    return 1


async def _close(
    connection: Connection, state: CampaignState, default: ReviewDefault, now: datetime
) -> None:
    campaign = state.campaign
    await campaigns.record_endings(connection, campaign.id)
    closing: list[Event] = [
        events.ReviewCampaignClosed(
            organisation_id=str(campaign.organisation_id), campaign_id=str(campaign.id),
            closed_at=now, default_applied=default.value, undecided=state.undecided,
        )
    ]  # fmt: skip
    for habilitation_id, applied in rules.apply_default(
        state.under_review, state.decisions, default
    ):
        closing += await _apply_default(connection, campaign, habilitation_id, applied, now)
    await campaigns.close(connection, campaign.id, now, default.value)
    await outbox.publish(connection, closing, source=SOURCE)


async def _apply_default(
    connection: Connection,
    campaign: StoredCampaign,
    habilitation_id: str,
    default: ReviewDefault,
    now: datetime,
) -> list[Event]:
    if default is ReviewDefault.FLAG_TO_OPERATOR:
        flagged = events.HabilitationFlagged(
            habilitation_id=habilitation_id, organisation_id=str(campaign.organisation_id),
            reason=OVERDUE, flagged_at=now,
        )  # fmt: skip
        return [flagged]
    habilitation = await habilitations.get(connection, uuid.UUID(habilitation_id), for_update=True)
    if habilitation is None or habilitation.status is HabilitationStatus.ENDED:
        return []
    suspended = habilitation_rules.suspend(habilitation, now)
    if suspended == habilitation:
        return []  # suspended already (a previous review)
    await habilitations.save(connection, suspended, now=now)
    event = events.HabilitationSuspended(
        habilitation_id=suspended.id, organisation_id=suspended.organisation_id,
        account_id=suspended.account_id, reason=OVERDUE, suspended_at=now,
    )  # fmt: skip
    return [event]
