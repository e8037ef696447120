"""Successor RGC designations (K10, CGU §4.1: « dans les mêmes conditions que celles du RGC
initial »): the organisation names the person, an operator validates, the identity service opens
the account and that operator retrieves its provisional credentials once to hand them over
(as for the first RGC). The head designates when logged in; without a head account, a request
tied to the SIRET and checked against the adhesion's head does it, and may instead ask for the
head's own account when the organisation has neither an RGC nor a head account."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kairos_habilitation.adapters import accounts, organisations
from kairos_habilitation.adapters.organisations import Organisation, RgcDesignation
from kairos_habilitation.domain import designations as rules
from kairos_habilitation.domain.designations import (
    DeclaredHead,
    DesignatedRole,
    DesignationError,
    DesignationStatus,
)
from kairos_habilitation.domain.rgc_post import RgcPost, VacancyReason
from kairos_habilitation.service_layer import rgc
from kairos_habilitation.service_layer.access import Actor, head_scope, require_operator
from kairos_habilitation.service_layer.context import SOURCE, HabilitationContext
from kairos_schemas import Event
from kairos_schemas import habilitation as events
from kairos_schemas import identity as identity_events
from kairos_shared import outbox
from kairos_shared.db import Connection
from kairos_shared.problems import FieldError, Problem

NO_MATCH = (
    "no organisation with this SIRET declared this head in its adhesion (names and e-mail "
    "address as written in the adhesion request), or its access is not active"
)


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str


def _person(designation: RgcDesignation) -> identity_events.Person:
    return identity_events.Person(
        first_name=designation.first_name, last_name=designation.last_name,
        email=designation.email,
    )  # fmt: skip


def _conflict(error: DesignationError) -> Problem:
    return Problem(status=409, title="Not allowed now", detail=str(error), type="invalid-state")


async def _record(
    context: HabilitationContext,
    connection: Connection,
    organisation_id: uuid.UUID,
    person: Person,
    *,
    role: DesignatedRole,
    requested_by: str | None,
) -> RgcDesignation:
    """A pending designation (a newer one replaces any still pending) and its event."""
    now = context.clock.now()
    await organisations.supersede_pending(connection, organisation_id, at=now)
    designation = RgcDesignation(
        id=uuid.uuid4(), organisation_id=organisation_id, first_name=person.first_name,
        last_name=person.last_name, email=person.email,
        designated_by=None if requested_by is None else uuid.UUID(requested_by),
        designated_at=now, account_role=role.value, status=DesignationStatus.PENDING.value,
    )  # fmt: skip
    await organisations.insert_designation(connection, designation)
    requested = events.RgcDesignationRequested(
        organisation_id=str(organisation_id), rgc_designation_id=str(designation.id),
        account_role=role.value, person=_person(designation), requested_by=requested_by,
        requested_at=now,
    )  # fmt: skip
    await outbox.publish(connection, [requested], source=SOURCE)
    return designation


async def designate_by_head(
    context: HabilitationContext,
    actor: Actor,
    organisation_id: uuid.UUID,
    person: Person,
    reason: VacancyReason | None,
) -> RgcDesignation:
    """The head names a new RGC. An RGC in office is relieved at once (for `reason`), and the
    head holds the RGC's rights until an operator validates the designation."""
    async with context.pool.acquire() as connection, connection.transaction():
        await head_scope(context, connection, actor, organisation_id)
        post = await organisations.post(connection, organisation_id, for_update=True)
        assert post is not None  # the scope found it
        vacancy = rgc.check_vacancy_reason(post, reason)
        if vacancy is not None:
            await rgc.vacate(connection, post, vacancy, context.clock.now(), by=actor.account_id)
        return await _record(
            context, connection, organisation_id, person,
            role=DesignatedRole.RGC, requested_by=actor.account_id,
        )  # fmt: skip


@dataclass(frozen=True)
class RequestWithoutAccount:
    """A designation asked for without an account, as the adhesion is: the SIRET, the head as
    the adhesion declared it, and the new RGC (None: the head's own account)."""

    siret: str
    head: DeclaredHead
    new_rgc: Person | None


async def request_without_account(
    context: HabilitationContext, request: RequestWithoutAccount
) -> RgcDesignation:
    async with context.pool.acquire() as connection, connection.transaction():
        organisation = await organisations.by_siret(connection, request.siret)
        if organisation is None or not _declared_head_of(organisation, request.head):
            raise Problem(
                status=422, title="Not the organisation's head", type="invalid-request",
                detail=NO_MATCH, errors=[FieldError("head", NO_MATCH)],
            )  # fmt: skip
        post = await organisations.post(connection, organisation.id, for_update=True)
        assert post is not None  # inserted with the organisation
        try:
            rules.check_request_without_account(
                post, head_can_log_in=await _head_can_log_in(connection, post)
            )
        except DesignationError as error:
            raise _conflict(error) from None
        if request.new_rgc is None:
            head = request.head
            person, role = Person(head.first_name, head.last_name, head.email), DesignatedRole.HEAD
        else:
            person, role = request.new_rgc, DesignatedRole.RGC
        return await _record(
            context, connection, organisation.id, person, role=role, requested_by=None
        )


async def _head_can_log_in(connection: Connection, post: RgcPost) -> bool:
    """Whether the head has an account that has not lapsed (a lapsed one opens nothing)."""
    if post.head_account_id is None:
        return False
    account = await accounts.get(connection, uuid.UUID(post.head_account_id))
    return account is None or account.status != "lapsed"


def _declared_head_of(organisation: Organisation, claimed: DeclaredHead) -> bool:
    declared = DeclaredHead(
        organisation.head_first_name, organisation.head_last_name, organisation.head_email
    )
    return organisation.is_active and rules.is_the_declared_head(declared, claimed)


async def pending(
    context: HabilitationContext, actor: Actor, organisation_id: uuid.UUID | None, limit: int
) -> list[RgcDesignation]:
    require_operator(actor)
    async with context.pool.acquire() as connection:
        return await organisations.pending_designations(connection, organisation_id, limit)


async def _locked(connection: Connection, designation_id: uuid.UUID) -> RgcDesignation:
    designation = await organisations.designation(connection, designation_id, for_update=True)
    if designation is None:
        raise Problem(
            status=404, title="No such designation", type="not-found",
            detail=f"no RGC designation {designation_id}",
        )  # fmt: skip
    return designation


async def validate(
    context: HabilitationContext, actor: Actor, designation_id: uuid.UUID
) -> RgcDesignation:
    """An operator validates: the identity service opens the account, whose provisional
    credentials this operator retrieves once (identity service) to hand them over."""
    require_operator(actor)
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        designation = await _locked(connection, designation_id)
        post = await organisations.post(connection, designation.organisation_id, for_update=True)
        organisation = await organisations.get(connection, designation.organisation_id)
        assert post is not None  # the designation's organisation is known
        assert organisation is not None
        role = DesignatedRole(designation.account_role)
        try:
            rules.check_validation(
                post, role, DesignationStatus(designation.status),
                head_can_log_in=await _head_can_log_in(connection, post),
            )  # fmt: skip
        except DesignationError as error:
            raise _conflict(error) from None
        if not organisation.is_active:
            raise Problem(
                status=409, title="Not allowed now", type="invalid-state",
                detail=f"the organisation's access is {organisation.status}",
            )  # fmt: skip
        operator = uuid.UUID(actor.account_id)
        await organisations.decide_designation(
            connection, designation.id, DesignationStatus.VALIDATED.value, by=operator, at=now
        )
        requester = designation.designated_by or operator
        designated: Event = events.RgcDesignated(
            organisation_id=str(designation.organisation_id),
            rgc_designation_id=str(designation.id), person=_person(designation),
            designated_by=str(requester), designated_at=designation.designated_at,
            account_role=role.value, validated_by=actor.account_id, validated_at=now,
        )  # fmt: skip
        await outbox.publish(connection, [designated], source=SOURCE)
        return await _locked(connection, designation_id)


async def reject(
    context: HabilitationContext, actor: Actor, designation_id: uuid.UUID, reason: str
) -> RgcDesignation:
    """An operator rejects, for `reason`; the head is told and may request again."""
    require_operator(actor)
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        designation = await _locked(connection, designation_id)
        try:
            rules.check_rejection(DesignationStatus(designation.status))
        except DesignationError as error:
            raise _conflict(error) from None
        await organisations.decide_designation(
            connection, designation.id, DesignationStatus.REJECTED.value,
            by=uuid.UUID(actor.account_id), at=now, reason=reason,
        )  # fmt: skip
        rejected = events.RgcDesignationRejected(
            organisation_id=str(designation.organisation_id),
            rgc_designation_id=str(designation.id), account_role=designation.account_role,
            person=_person(designation), reason=reason, rejected_by=actor.account_id,
            rejected_at=now,
        )  # fmt: skip
        await outbox.publish(connection, [rejected], source=SOURCE)
        return await _locked(connection, designation_id)
