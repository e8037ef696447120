"""HTTP API of the annual review's flags (K14): the habilitations left undecided at a review's
deadline and flagged to the operators, per organisation and across organisations; a demand
answers them (``POST /v1/organisations/{id}/demands`` with ``flag_ids``, K15)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from kairos_habilitation.adapters.flags import HabilitationFlag
from kairos_habilitation.entrypoints.auth import Context, CurrentActor
from kairos_habilitation.service_layer import flags

router = APIRouter(tags=["flags"])


class Which(StrEnum):
    open = "open"
    all = "all"


class FlagQuery(BaseModel):
    """The query string: ``status`` only (an unknown parameter is a 422, not ignored)."""

    model_config = ConfigDict(extra="forbid")

    status: Which = Field(Which.open, description="open flags only, or all of them")


FlagParams = Annotated[FlagQuery, Query()]


class FlagView(BaseModel):
    flag_id: str
    organisation_id: str
    habilitation_id: str
    campaign_id: str
    reason: str = Field(description="annual_review_overdue: left undecided at the deadline")
    flagged_at: datetime
    status: str = Field(
        description="open (waits for an operator), demanded (a demand answers it: demand_id), "
        "or ended (the habilitation ended meanwhile)"
    )
    demand_id: str | None
    first_name: str
    last_name: str
    role: str
    function: str

    @classmethod
    def of(cls, flag: HabilitationFlag) -> FlagView:
        return cls(
            flag_id=str(flag.id), organisation_id=str(flag.organisation_id),
            habilitation_id=str(flag.habilitation_id), campaign_id=str(flag.campaign_id),
            reason=flag.reason, flagged_at=flag.flagged_at, status=flag.status,
            demand_id=None if flag.demand_id is None else str(flag.demand_id),
            first_name=flag.first_name, last_name=flag.last_name, role=flag.role,
            function=flag.function,
        )  # fmt: skip


class FlagList(BaseModel):
    organisation_id: str | None = Field(description="None: every organisation")
    status: Which
    flags: list[FlagView] = Field(description="the longest waiting first, 1000 at most")


@router.get("/v1/habilitation-flags")
async def all_flags(
    context: Context,
    actor: CurrentActor,
    query: FlagParams,
) -> FlagList:
    """Operators only: the review's flags of every organisation (K14)."""
    found = await flags.listed(context, actor, None, open_only=query.status is Which.open)
    return FlagList(
        organisation_id=None, status=query.status, flags=[FlagView.of(f) for f in found]
    )


@router.get("/v1/organisations/{organisation_id}/habilitation-flags")
async def organisation_flags(
    organisation_id: uuid.UUID,
    context: Context,
    actor: CurrentActor,
    query: FlagParams,
) -> FlagList:
    """Operators only: the review's flags of one organisation (K14)."""
    open_only = query.status is Which.open
    found = await flags.listed(context, actor, organisation_id, open_only=open_only)
    return FlagList(
        organisation_id=str(organisation_id), status=query.status,
        flags=[FlagView.of(f) for f in found],
    )  # fmt: skip
