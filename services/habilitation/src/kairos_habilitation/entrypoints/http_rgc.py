"""HTTP API of the RGC post (K10): who holds it, designation by the head, vacancy, absence."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, EmailStr, Field

from kairos_habilitation.domain.rgc_post import RgcPost, VacancyReason, who_holds_rgc_rights
from kairos_habilitation.entrypoints.auth import Context, CurrentActor
from kairos_habilitation.entrypoints.http_habilitations import AbsenceBody, AbsenceView, Body
from kairos_habilitation.service_layer import absences, rgc
from kairos_habilitation.service_layer.access import reader_scope
from kairos_shared.problems import ORGANISATION_BEING_SET_UP

router = APIRouter(tags=["rgc"])
HeadVacancy = Literal["departure", "absence_over_3_months", "change_of_function"]


class DesignationBody(Body):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email: EmailStr
    reason: HeadVacancy | None = Field(
        default=None, description="why the RGC in office is relieved (required when one is)"
    )


class VacancyBody(Body):
    reason: HeadVacancy


class RgcPostView(BaseModel):
    organisation_id: str
    rgc_account_id: str | None
    vacant_since: datetime | None
    head_account_id: str | None
    rgc_rights_held_by: str | None

    @classmethod
    def of(cls, post: RgcPost) -> RgcPostView:
        return cls(
            organisation_id=post.organisation_id, rgc_account_id=post.rgc_account_id,
            vacant_since=post.vacant_since, head_account_id=post.head_account_id,
            rgc_rights_held_by=who_holds_rgc_rights(post),
        )  # fmt: skip


class DesignationView(BaseModel):
    rgc_designation_id: str
    organisation_id: str
    designated_at: datetime
    detail: str = (
        "the identity service creates the RGC's account (21 days to log in); the head retrieves "
        "its provisional credentials once, and the RGC takes office when the account exists"
    )


@router.get(
    "/v1/organisations/{organisation_id}/rgc",
    responses=ORGANISATION_BEING_SET_UP,
)
async def rgc_post(
    organisation_id: uuid.UUID, context: Context, actor: CurrentActor
) -> RgcPostView:
    async with context.pool.acquire() as connection:
        scope = await reader_scope(context, connection, actor, organisation_id)
    return RgcPostView.of(scope.post)


@router.put(
    "/v1/organisations/{organisation_id}/rgc", status_code=202, responses=ORGANISATION_BEING_SET_UP
)
async def designate_rgc(
    organisation_id: uuid.UUID, body: DesignationBody, context: Context, actor: CurrentActor
) -> DesignationView:
    person = rgc.NewRgc(body.first_name, body.last_name, body.email)
    reason = None if body.reason is None else VacancyReason(body.reason)
    designation = await rgc.designate(context, actor, organisation_id, person, reason)
    return DesignationView(
        rgc_designation_id=str(designation.id), organisation_id=str(organisation_id),
        designated_at=designation.designated_at,
    )  # fmt: skip


@router.post(
    "/v1/organisations/{organisation_id}/rgc/vacancy",
    responses=ORGANISATION_BEING_SET_UP,
)
async def relieve_rgc(
    organisation_id: uuid.UUID, body: VacancyBody, context: Context, actor: CurrentActor
) -> RgcPostView:
    post = await rgc.relieve(context, actor, organisation_id, VacancyReason(body.reason))
    return RgcPostView.of(post)


@router.post(
    "/v1/organisations/{organisation_id}/rgc/absences",
    status_code=201,
    responses=ORGANISATION_BEING_SET_UP,
)
async def record_rgc_absence(
    organisation_id: uuid.UUID, body: AbsenceBody, context: Context, actor: CurrentActor
) -> AbsenceView:
    dates = absences.AbsenceDates(body.starts_on, body.ends_on)
    return AbsenceView.of(await absences.record_for_rgc(context, actor, organisation_id, dates))
