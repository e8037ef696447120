"""The annual review's deadlines (K14), run by the scheduler: campaigns open on the anniversary
of the organisation's validation, reminders go out while decisions are missing, and at the
deadline what is left undecided is flagged to the operators or suspended, as configured. Rounds
claim rows with SKIP LOCKED and record what they did in the transaction that publishes it, so
several replicas never send an event twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from kairos_habilitation.adapters import flags, habilitations
from kairos_habilitation.adapters import reviews as campaigns
from kairos_habilitation.adapters.reviews import CampaignState, DueOrganisation, StoredCampaign
from kairos_habilitation.domain import habilitations as habilitation_rules
from kairos_habilitation.domain import reviews as rules
from kairos_habilitation.domain.habilitations import HabilitationStatus
from kairos_habilitation.domain.reviews import ReviewDefault, ReviewPolicy
from kairos_habilitation.service_layer.context import SOURCE, HabilitationContext
from kairos_habilitation.service_layer.reviews import open_campaign, state_of
from kairos_schemas import Event
from kairos_schemas import habilitation as events
from kairos_shared import outbox
from kairos_shared.db import Connection

OVERDUE = "annual_review_overdue"


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
                if campaign is not None and await open_campaign(connection, campaign):
                    opened += 1
        if len(due) < context.batch_size:
            return opened
        after = due[-1].id


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
                state = await state_of(connection, campaign)
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
        await flags.insert(
            connection, uuid.UUID(habilitation_id), campaign.organisation_id, campaign.id, now
        )  # listed to the operators from now on (K14)
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
