"""HTTP API of habilitations (K11-K13, K15): record, read, list (JSON or CSV), end, absences."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from kairos_habilitation.adapters import habilitations as habilitation_rows
from kairos_habilitation.adapters.absences import RecordedAbsence
from kairos_habilitation.domain.habilitations import (
    EndReason,
    HabilitatedPerson,
    Habilitation,
    HabilitationRole,
    SignedAuthorisation,
)
from kairos_habilitation.entrypoints.auth import Context, CurrentActor
from kairos_habilitation.service_layer import absences, habilitations, listing
from kairos_habilitation.service_layer.access import reader_scope
from kairos_habilitation.service_layer.habilitations import NewHabilitation, not_found
from kairos_shared.problems import ORGANISATION_BEING_SET_UP

router = APIRouter(tags=["habilitations"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PersonBody(Body):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email: EmailStr


class AuthorisationBody(Body):
    signed_by: str = Field(min_length=1, max_length=200, description="the head who signed")
    signed_on: date
    document_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class HabilitationBody(Body):
    role: Literal["user", "head"] = "user"
    person: PersonBody
    function: str = Field(min_length=1, max_length=200)
    authorisation: AuthorisationBody
    employee_attested: bool = Field(
        description="the RGC attests the person is an employee of the organisation (§4.1.3)"
    )


class EndingBody(Body):
    reason: Literal["departure", "absence_over_3_months", "change_of_function", "breach_of_terms"]


class AbsenceBody(Body):
    starts_on: date
    ends_on: date | None = None


class ReturnBody(Body):
    ends_on: date


class HabilitationView(BaseModel):
    habilitation_id: str
    organisation_id: str
    role: str
    person: dict[str, str]
    function: str
    authorisation: dict[str, str]
    employee_attested: bool
    recorded_by: str
    recorded_at: datetime
    status: str
    account_id: str | None
    suspended: bool
    ended_at: datetime | None
    end_reason: str | None

    @classmethod
    def of(cls, h: Habilitation) -> HabilitationView:
        signed = h.authorisation
        return cls(
            habilitation_id=h.id, organisation_id=h.organisation_id, role=h.role.value,
            person={"first_name": h.person.first_name, "last_name": h.person.last_name,
                    "email": h.person.email},
            function=h.function,
            authorisation={"signed_by": signed.signed_by, "signed_on": signed.signed_on.isoformat(),
                           "document_sha256": signed.document_sha256},
            employee_attested=h.employee_attested, recorded_by=h.recorded_by,
            recorded_at=h.recorded_at, status=h.status.value, account_id=h.account_id,
            suspended=h.is_suspended, ended_at=h.ended_at,
            end_reason=None if h.end_reason is None else h.end_reason.value,
        )  # fmt: skip


class AbsenceView(BaseModel):
    absence_id: str
    habilitation_id: str | None
    rgc_account_id: str | None
    starts_on: date
    ends_on: date | None
    reaches_three_months_on: date
    took_effect_at: datetime | None

    @classmethod
    def of(cls, a: RecordedAbsence) -> AbsenceView:
        return cls(
            absence_id=str(a.id), starts_on=a.starts_on, ends_on=a.ends_on,
            habilitation_id=None if a.habilitation_id is None else str(a.habilitation_id),
            rgc_account_id=None if a.rgc_account_id is None else str(a.rgc_account_id),
            reaches_three_months_on=a.reaches_limit_on, took_effect_at=a.applied_at,
        )  # fmt: skip


@router.post(
    "/v1/organisations/{organisation_id}/habilitations",
    status_code=201,
    responses=ORGANISATION_BEING_SET_UP,
)
async def record_habilitation(
    organisation_id: uuid.UUID, body: HabilitationBody, context: Context, actor: CurrentActor
) -> HabilitationView:
    new = NewHabilitation(
        role=HabilitationRole(body.role),
        person=HabilitatedPerson(body.person.first_name, body.person.last_name, body.person.email),
        function=body.function,
        authorisation=SignedAuthorisation(
            body.authorisation.signed_by, body.authorisation.signed_on,
            body.authorisation.document_sha256,
        ),
        employee_attested=body.employee_attested,
    )  # fmt: skip
    return HabilitationView.of(await habilitations.record(context, actor, organisation_id, new))


@router.get(
    "/v1/organisations/{organisation_id}/habilitations",
    responses={
        200: {"content": {"text/csv": {}, "application/json": {}}},
        **ORGANISATION_BEING_SET_UP,
    },
)
async def list_habilitations(
    organisation_id: uuid.UUID,
    context: Context,
    actor: CurrentActor,
    status: Annotated[listing.Which, Query(description="live (default), ended or all")] = "live",
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    lines = await listing.habilitation_list(context, actor, organisation_id, status)
    if format == "csv":
        return Response(
            listing.as_csv(lines), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition":
                     f'attachment; filename="habilitations-{organisation_id}.csv"'},
        )  # fmt: skip
    return {"organisation_id": str(organisation_id), "habilitations": [li.row() for li in lines]}


@router.get("/v1/habilitations/{habilitation_id}")
async def habilitation(
    habilitation_id: uuid.UUID, context: Context, actor: CurrentActor
) -> HabilitationView:
    async with context.pool.acquire() as connection:
        found = await habilitation_rows.get(connection, habilitation_id)
        if found is None:
            raise not_found(habilitation_id)
        await reader_scope(context, connection, actor, uuid.UUID(found.organisation_id))
    return HabilitationView.of(found)


@router.post("/v1/habilitations/{habilitation_id}/ending")
async def end_habilitation(
    habilitation_id: uuid.UUID, body: EndingBody, context: Context, actor: CurrentActor
) -> HabilitationView:
    ended = await habilitations.end_by_rgc(context, actor, habilitation_id, EndReason(body.reason))
    return HabilitationView.of(ended)


@router.post("/v1/habilitations/{habilitation_id}/absences", status_code=201)
async def record_absence(
    habilitation_id: uuid.UUID, body: AbsenceBody, context: Context, actor: CurrentActor
) -> AbsenceView:
    dates = absences.AbsenceDates(body.starts_on, body.ends_on)
    recorded = await absences.record_for_habilitation(context, actor, habilitation_id, dates)
    return AbsenceView.of(recorded)


@router.post("/v1/absences/{absence_id}/return")
async def record_return(
    absence_id: uuid.UUID, body: ReturnBody, context: Context, actor: CurrentActor
) -> AbsenceView:
    return AbsenceView.of(await absences.record_return(context, actor, absence_id, body.ends_on))
