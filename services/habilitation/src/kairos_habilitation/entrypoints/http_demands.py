"""HTTP API of operators' demands (K10, K15): the habilitations that usage does not justify,
demands to end them or to revoke the RGC, and the organisation's justifications."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, Field

from kairos_habilitation.adapters.demands import DemandItem
from kairos_habilitation.entrypoints.auth import Context, CurrentActor
from kairos_habilitation.entrypoints.http_habilitations import Body
from kairos_habilitation.service_layer import demands
from kairos_habilitation.service_layer.demands import DemandRequest, DemandState
from kairos_shared.problems import ORGANISATION_BEING_SET_UP

router = APIRouter(tags=["demands"])


class DemandBody(Body):
    kind: Literal["end_habilitations", "revoke_rgc"]
    habilitation_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=1000,
        description="end_habilitations: the live habilitations to end; revoke_rgc: none",
    )  # fmt: skip
    reason: str = Field(min_length=1, max_length=2000)
    deadline: AwareDatetime | None = Field(
        default=None, description="default: now + the configured demand period"
    )
    flag_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=1000,
        description="end_habilitations: open flags of the annual review this demand answers; "
        "their habilitations are demanded ended too (GET .../habilitation-flags)",
    )  # fmt: skip


class JustificationBody(Body):
    habilitation_id: uuid.UUID
    justification: str = Field(min_length=1, max_length=2000)


class DemandItemView(BaseModel):
    habilitation_id: str | None
    rgc_account_id: str | None
    status: str = Field(
        description="open, or how it was complied with (ended, justified), or its outcome "
        "once settled (ended, justified, enforced, moot)"
    )
    justification: str | None
    justified_by: str | None
    justified_at: datetime | None

    @classmethod
    def of(cls, item: DemandItem) -> DemandItemView:
        def text(value: uuid.UUID | None) -> str | None:
            return None if value is None else str(value)

        return cls(
            habilitation_id=text(item.habilitation_id), rgc_account_id=text(item.rgc_account_id),
            status=item.outcome or item.complied or "open", justification=item.justification,
            justified_by=text(item.justified_by), justified_at=item.justified_at,
        )  # fmt: skip


class DemandView(BaseModel):
    demand_id: str
    organisation_id: str
    kind: str
    reason: str
    issued_by: str
    issued_at: datetime
    deadline: datetime
    settled_at: datetime | None
    items: list[DemandItemView]

    @classmethod
    def of(cls, state: DemandState) -> DemandView:
        d = state.demand
        return cls(
            demand_id=str(d.id), organisation_id=str(d.organisation_id), kind=d.kind,
            reason=d.reason, issued_by=str(d.issued_by), issued_at=d.issued_at,
            deadline=d.deadline, settled_at=d.settled_at,
            items=[DemandItemView.of(item) for item in state.items],
        )  # fmt: skip


@router.get("/v1/organisations/{organisation_id}/habilitations/unjustified")
async def unjustified_habilitations(
    organisation_id: uuid.UUID, context: Context, actor: CurrentActor
) -> dict[str, Any]:
    """Operators only: active habilitations whose holder has not logged in for the
    configured period (K15)."""
    lines = await demands.unjustified(context, actor, organisation_id)
    return {
        "organisation_id": str(organisation_id),
        "unused_after_days": context.unused_after.days,
        "habilitations": [line.row() for line in lines],
    }


@router.post("/v1/organisations/{organisation_id}/demands", status_code=201)
async def issue_demand(
    organisation_id: uuid.UUID, body: DemandBody, context: Context, actor: CurrentActor
) -> DemandView:
    """Operators only: demand that habilitations end (K15) or that the RGC be revoked (K10);
    a demand to end habilitations may answer the annual review's flags (`flag_ids`, K14)."""
    request = DemandRequest(
        body.kind, body.habilitation_ids, body.reason, body.deadline, body.flag_ids
    )
    return DemandView.of(await demands.issue(context, actor, organisation_id, request))


@router.get(
    "/v1/organisations/{organisation_id}/demands",
    responses=ORGANISATION_BEING_SET_UP,
)
async def list_demands(
    organisation_id: uuid.UUID, context: Context, actor: CurrentActor
) -> dict[str, Any]:
    """The organisation's demands, newest first (operators, its RGC and its head)."""
    found = await demands.of_organisation(context, actor, organisation_id)
    return {
        "organisation_id": str(organisation_id),
        "demands": [DemandView.of(state).model_dump(mode="json") for state in found],
    }


@router.post("/v1/demands/{demand_id}/justifications")
async def justify(
    demand_id: uuid.UUID, body: JustificationBody, context: Context, actor: CurrentActor
) -> DemandView:
    """The RGC (or the head, while the post is vacant) justifies keeping a habilitation."""
    state = await demands.justify(
        context, actor, demand_id, body.habilitation_id, body.justification
    )
    return DemandView.of(state)
