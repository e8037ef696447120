"""HTTP API of the annual review (K14): an operator opens a campaign at once, the RGC's rights
holder reads it and confirms or ends each habilitation, and reinstates a suspended one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from kairos_habilitation.adapters.reviews import CampaignState, ReviewItem
from kairos_habilitation.domain.reviews import ReviewDecision
from kairos_habilitation.entrypoints.auth import Context, CurrentActor
from kairos_habilitation.entrypoints.http_habilitations import Body, HabilitationView
from kairos_habilitation.service_layer import reviews
from kairos_shared.problems import ORGANISATION_BEING_SET_UP

router = APIRouter(tags=["reviews"])


class DecisionBody(Body):
    habilitation_id: uuid.UUID
    decision: Literal["confirmed", "ended"]
    reason: str | None = Field(
        default=None, min_length=1, max_length=2000, description="a note kept with the decision"
    )


class ReviewItemView(BaseModel):
    habilitation_id: str
    first_name: str
    last_name: str
    role: str
    status: str
    suspended: bool
    decision: str | None = Field(
        description='the latest decision; "ended" also for a habilitation ended meanwhile'
    )
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, item: ReviewItem) -> ReviewItemView:
        decision = item.effective_decision
        return cls(
            habilitation_id=item.habilitation_id, first_name=item.first_name,
            last_name=item.last_name, role=item.role, status=item.status,
            suspended=item.suspended, decision=None if decision is None else decision.value,
            reason=item.reason, decided_by=item.decided_by, decided_at=item.decided_at,
        )  # fmt: skip


class CampaignView(BaseModel):
    campaign_id: str
    organisation_id: str
    year: int
    opens_at: datetime
    deadline: datetime
    opened_by: str | None = Field(description="the operator who opened it; null: anniversary")
    reminder_days: list[int]
    reminders_sent: list[int]
    closed_at: datetime | None
    default_applied: str | None
    items: list[ReviewItemView]
    undecided: list[str]

    @classmethod
    def of(cls, state: CampaignState) -> CampaignView:
        c = state.campaign
        return cls(
            campaign_id=str(c.id), organisation_id=str(c.organisation_id), year=c.year,
            opens_at=c.opens_at, deadline=c.deadline,
            opened_by=None if c.opened_by is None else str(c.opened_by),
            reminder_days=list(c.reminder_days), reminders_sent=list(c.reminders_sent),
            closed_at=c.closed_at, default_applied=c.default_applied,
            items=[ReviewItemView.of(item) for item in state.items], undecided=state.undecided,
        )  # fmt: skip


@router.post("/v1/organisations/{organisation_id}/reviews", status_code=201)
async def open_review(
    organisation_id: uuid.UUID, context: Context, actor: CurrentActor
) -> CampaignView:
    """An operator opens the organisation's review at once (409 when one is open)."""
    return CampaignView.of(await reviews.open_now(context, actor, organisation_id))


@router.get(
    "/v1/organisations/{organisation_id}/reviews/current", responses=ORGANISATION_BEING_SET_UP
)
async def current_review(
    organisation_id: uuid.UUID, context: Context, actor: CurrentActor
) -> CampaignView:
    """The organisation's latest review: its habilitations, decisions and what is undecided."""
    return CampaignView.of(await reviews.current(context, actor, organisation_id))


@router.post("/v1/reviews/{campaign_id}/decisions")
async def decide(
    campaign_id: uuid.UUID, body: DecisionBody, context: Context, actor: CurrentActor
) -> ReviewItemView:
    """The RGC (or the head, while the post is vacant) confirms or ends a habilitation."""
    decision = reviews.Decision(body.habilitation_id, ReviewDecision(body.decision), body.reason)
    return ReviewItemView.of(await reviews.decide(context, actor, campaign_id, decision))


@router.post("/v1/habilitations/{habilitation_id}/reinstatement")
async def reinstate(
    habilitation_id: uuid.UUID, context: Context, actor: CurrentActor
) -> HabilitationView:
    """The RGC confirms a habilitation suspended at a review's deadline: it works again."""
    return HabilitationView.of(await reviews.reinstate(context, actor, habilitation_id))
