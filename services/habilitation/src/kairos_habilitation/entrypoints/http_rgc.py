"""HTTP API of the RGC post (K10): who holds it, vacancy, absence, and successor designations —
named by the head (or, without a head account, by a request tied to the SIRET), validated or
rejected by an operator."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, EmailStr, Field, field_validator

from kairos_habilitation.adapters.organisations import RgcDesignation
from kairos_habilitation.domain.designations import DeclaredHead
from kairos_habilitation.domain.rgc_post import RgcPost, VacancyReason, who_holds_rgc_rights
from kairos_habilitation.entrypoints.auth import Context, CurrentActor
from kairos_habilitation.entrypoints.http_habilitations import (
    AbsenceBody,
    AbsenceView,
    Body,
    PersonBody,
)
from kairos_habilitation.service_layer import absences, designations, messages_to_operators, rgc
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
    account_role: Literal["rgc", "head"] = Field(
        description="the account the designation opens: a new RGC's, or the head's own"
    )
    first_name: str
    last_name: str
    email: str
    status: Literal["pending", "validated", "rejected"]
    requested_by: str | None = Field(
        description="the head's account; null for a request made without an account"
    )
    designated_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    rejection_reason: str | None = None
    account_id: str | None = Field(default=None, description="once the account is opened")
    next_step: str

    @classmethod
    def of(cls, designation: RgcDesignation) -> DesignationView:
        def text(value: uuid.UUID | None) -> str | None:
            return None if value is None else str(value)

        steps = {
            "pending": "an operator validates or rejects the request",
            "validated": "the identity service opens the account (a new RGC has 21 days to log "
            "in); the validating operator retrieves its provisional credentials once "
            "(GET /v1/rgc-designations/{id}/provisional-credentials on the identity service) "
            "and hands them over",
            "rejected": "the organisation may request again",
        }
        return cls(
            rgc_designation_id=str(designation.id),
            organisation_id=str(designation.organisation_id),
            account_role="head" if designation.account_role == "head" else "rgc",
            first_name=designation.first_name, last_name=designation.last_name,
            email=designation.email, status=_status(designation.status),
            requested_by=text(designation.designated_by),
            designated_at=designation.designated_at, decided_by=text(designation.decided_by),
            decided_at=designation.decided_at, rejection_reason=designation.rejection_reason,
            account_id=text(designation.account_id), next_step=steps[designation.status],
        )  # fmt: skip


def _status(value: str) -> Literal["pending", "validated", "rejected"]:
    if value == "validated":
        return "validated"
    return "rejected" if value == "rejected" else "pending"


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
    """The head names a new RGC (CGU §4.1); an RGC in office is relieved at once (`reason`).
    The designation waits for an operator's validation; meanwhile the head holds the RGC's
    rights."""
    person = designations.Person(body.first_name, body.last_name, body.email)
    reason = None if body.reason is None else VacancyReason(body.reason)
    designation = await designations.designate_by_head(
        context, actor, organisation_id, person, reason
    )
    return DesignationView.of(designation)


class _TiedToSiret(Body):
    """Without an account, as for the adhesion: the SIRET and the head it declared."""

    siret: str = Field(
        max_length=20, description="the organisation's SIRET: 14 digits (spaces allowed)"
    )
    head: PersonBody = Field(description="the head as declared in the adhesion request")

    @field_validator("siret")
    @classmethod
    def _fourteen_digits(cls, value: str) -> str:
        digits = "".join(value.split())
        if len(digits) != 14 or not digits.isascii() or not digits.isdigit():  # noqa: PLR2004
            raise ValueError("a SIRET is 14 digits")
        return digits


class DesignationRequestBody(_TiedToSiret):
    new_rgc: PersonBody | None = Field(
        default=None, description="the new RGC; omitted: open the head's own account"
    )


@router.post("/v1/rgc-designation-requests", status_code=202)
async def request_designation(body: DesignationRequestBody, context: Context) -> DesignationView:
    """Without an account, as for the adhesion: an organisation whose RGC post is vacant and
    whose head has no account names a new RGC, or asks for the head's account (K10). Checked
    against the head the adhesion declared; an operator validates it."""
    head = DeclaredHead(body.head.first_name, body.head.last_name, str(body.head.email))
    new_rgc = body.new_rgc
    request = designations.RequestWithoutAccount(
        siret=body.siret, head=head,
        new_rgc=None if new_rgc is None else designations.Person(
            new_rgc.first_name, new_rgc.last_name, str(new_rgc.email)
        ),
    )  # fmt: skip
    return DesignationView.of(await designations.request_without_account(context, request))


@router.get("/v1/rgc-designations")
async def pending_designations(
    context: Context,
    actor: CurrentActor,
    organisation_id: Annotated[uuid.UUID | None, Query(description="one organisation")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DesignationView]:
    """Operators: the designations waiting for a decision, oldest first (across organisations,
    or for one)."""
    found = await designations.pending(context, actor, organisation_id, limit)
    return [DesignationView.of(designation) for designation in found]


@router.post("/v1/rgc-designations/{designation_id}/validation")
async def validate_designation(
    designation_id: uuid.UUID, context: Context, actor: CurrentActor
) -> DesignationView:
    """An operator validates: the account opens (a new RGC then takes office); the same
    operator retrieves its provisional credentials once from the identity service."""
    return DesignationView.of(await designations.validate(context, actor, designation_id))


class RejectionBody(Body):
    reason: str = Field(min_length=3, max_length=500)


@router.post("/v1/rgc-designations/{designation_id}/rejection")
async def reject_designation(
    designation_id: uuid.UUID, body: RejectionBody, context: Context, actor: CurrentActor
) -> DesignationView:
    """An operator rejects, with a reason e-mailed to the head; the organisation may request
    again."""
    return DesignationView.of(
        await designations.reject(context, actor, designation_id, body.reason)
    )


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


class MessageToOperatorsBody(_TiedToSiret):
    subject: str = Field(min_length=1, max_length=200, description="the message's subject")
    text: str = Field(min_length=1, max_length=5000, description="the message, in your words")


class MessageToOperatorsAccepted(BaseModel):
    message_id: str
    next_step: str


@router.post("/v1/messages-to-operators", status_code=202)
async def write_to_operators(
    body: MessageToOperatorsBody, context: Context
) -> MessageToOperatorsAccepted:
    """« Écrire à France Travail » without an account, as for the adhesion: for an organisation
    none of whose people can log in (suspended, withdrawn, credentials never received). Sent to
    the operators' mailbox when the SIRET and the head match the adhesion (names and e-mail
    address as declared, case, accents and spaces aside). The answer is the same whether they
    match or not; a message that does not match is not sent."""
    head = DeclaredHead(body.head.first_name, body.head.last_name, str(body.head.email))
    message = messages_to_operators.MessageToOperators(
        siret=body.siret, head=head, subject=body.subject, text=body.text
    )
    message_id = await messages_to_operators.send(context, message)
    return MessageToOperatorsAccepted(
        message_id=str(message_id),
        next_step=(
            "if the SIRET and the head are those the adhesion declared, France Travail's "
            "operators receive the message and answer the head at its e-mail address"
        ),
    )
