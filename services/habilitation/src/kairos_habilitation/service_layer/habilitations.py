"""Habilitations (K11-K13): the RGC records one, the identity service's account activates it,
the RGC (or a deadline, or a demand) ends it. Each step changes state and writes its events in
one transaction (transactional outbox)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from kairos_habilitation.adapters import habilitations, organisations
from kairos_habilitation.adapters.habilitations import (
    HeadAlreadyHabilitatedError,
    PersonAlreadyHabilitatedError,
)
from kairos_habilitation.domain import habilitations as rules
from kairos_habilitation.domain.habilitations import (
    EndReason,
    HabilitatedPerson,
    Habilitation,
    HabilitationRole,
    HabilitationStateError,
    InvalidHabilitationError,
    SignedAuthorisation,
)
from kairos_habilitation.domain.rgc_post import head_account_closed, head_account_opened
from kairos_habilitation.service_layer.access import Actor, rights_holder_scope
from kairos_habilitation.service_layer.context import SOURCE, HabilitationContext
from kairos_schemas import habilitation as events
from kairos_schemas import identity as identity_events
from kairos_shared import outbox
from kairos_shared.db import Connection
from kairos_shared.problems import FieldError, Problem, invalid_fields
from kairos_shared.zones import Zone

ENDINGS_BY_THE_RGC = frozenset(
    {
        EndReason.DEPARTURE,
        EndReason.ABSENCE_OVER_3_MONTHS,
        EndReason.CHANGE_OF_FUNCTION,
        EndReason.BREACH_OF_TERMS,
    }
)
"""Why the RGC may end a habilitation (K13); the other reasons are the platform's own."""


@dataclass(frozen=True)
class NewHabilitation:
    role: HabilitationRole
    person: HabilitatedPerson
    function: str
    authorisation: SignedAuthorisation
    employee_attested: bool


def not_found(habilitation_id: uuid.UUID) -> Problem:
    return Problem(
        status=404, title="No such habilitation", type="not-found",
        detail=f"no habilitation {habilitation_id}",
    )  # fmt: skip


def conflict(detail: str, type_: str = "invalid-state") -> Problem:
    return Problem(status=409, title="Conflict", detail=detail, type=type_)


def recorded_event(habilitation: Habilitation) -> events.HabilitationRecorded:
    person, signed = habilitation.person, habilitation.authorisation
    return events.HabilitationRecorded(
        habilitation_id=habilitation.id, organisation_id=habilitation.organisation_id,
        role=habilitation.role.value,
        person=identity_events.Person(
            first_name=person.first_name, last_name=person.last_name, email=person.email
        ),
        function=habilitation.function,
        authorisation=events.SignedAuthorisation(
            signed_by=signed.signed_by, signed_on=signed.signed_on,
            document_sha256=signed.document_sha256,
        ),
        employee_attested=habilitation.employee_attested,
        recorded_by=habilitation.recorded_by, recorded_at=habilitation.recorded_at,
    )  # fmt: skip


async def record(
    context: HabilitationContext, actor: Actor, organisation_id: uuid.UUID, new: NewHabilitation
) -> Habilitation:
    """The RGC habilitates a person (K11, K12); identity opens the account from the event."""
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        scope = await rights_holder_scope(context, connection, actor, organisation_id)
        if str(new.role) == "head" and scope.post.head_account_id is not None:
            raise conflict(
                "the head of the organisation already has an account (its own habilitation, the "
                "account France Travail opened, or the RGC's when the head is also the RGC): "
                "one person, one account",
                "already-habilitated",
            )
        try:
            habilitation = rules.record_habilitation(
                str(uuid.uuid4()), str(organisation_id), role=new.role, person=new.person,
                function=new.function, authorisation=new.authorisation,
                employee_attested=new.employee_attested, recorded_by=actor.account_id,
                recorded_at=now, zone=Zone(scope.organisation.zone),
            )  # fmt: skip
        except InvalidHabilitationError as error:
            raise invalid_fields([FieldError(error.field, str(error).split(": ", 1)[1])]) from None
        try:
            await habilitations.insert(connection, habilitation)
        except PersonAlreadyHabilitatedError:
            raise conflict(
                f"{new.person.email} already holds a habilitation for this organisation",
                "already-habilitated",
            ) from None
        except HeadAlreadyHabilitatedError:
            raise conflict(
                "the head of the organisation already holds a habilitation", "already-habilitated"
            ) from None
        await outbox.publish(connection, [recorded_event(habilitation)], source=SOURCE)
    return habilitation


async def end_by_rgc(
    context: HabilitationContext, actor: Actor, habilitation_id: uuid.UUID, reason: EndReason
) -> Habilitation:
    """The RGC ends a habilitation (K13): immediate for every service through the event."""
    if reason not in ENDINGS_BY_THE_RGC:
        allowed = ", ".join(sorted(r.value for r in ENDINGS_BY_THE_RGC))
        raise invalid_fields([FieldError("reason", f"must be one of {allowed}")])
    async with context.pool.acquire() as connection, connection.transaction():
        habilitation = await habilitations.get(connection, habilitation_id, for_update=True)
        if habilitation is None:
            raise not_found(habilitation_id)
        await rights_holder_scope(
            context, connection, actor, uuid.UUID(habilitation.organisation_id)
        )
        return await end(connection, habilitation, reason, context.clock.now(), by=actor.account_id)


async def end(
    connection: Connection,
    habilitation: Habilitation,
    reason: EndReason,
    now: datetime,
    *,
    by: str | None,
) -> Habilitation:
    """End `habilitation` (locked by the caller) and publish it (K13); a head's ending takes
    the RGC's rights away from the head's account (K10)."""
    try:
        ended = rules.end(habilitation, reason, now)
    except HabilitationStateError as error:
        raise conflict(str(error)) from None
    await habilitations.save(connection, ended, now=now, by=by)
    if ended.role is HabilitationRole.HEAD and ended.account_id is not None:
        organisation_id = uuid.UUID(ended.organisation_id)
        post = await organisations.post(connection, organisation_id, for_update=True)
        if post is not None and post.head_account_id == ended.account_id:
            await organisations.save_post(connection, head_account_closed(post))
    event = events.HabilitationEnded(
        habilitation_id=ended.id, organisation_id=ended.organisation_id, reason=reason.value,
        ended_at=now, ended_by=by, account_id=ended.account_id,
    )  # fmt: skip
    await outbox.publish(connection, [event], source=SOURCE)
    return ended


async def account_opened(
    connection: Connection, habilitation_id: uuid.UUID, account_id: uuid.UUID, now: datetime
) -> Habilitation | None:
    """The identity service created the habilitated person's account: the habilitation is
    active (K11). None when it ended first (its holder gets no right)."""
    habilitation = await habilitations.get(connection, habilitation_id, for_update=True)
    if habilitation is None or habilitation.status is rules.HabilitationStatus.ENDED:
        return None
    if habilitation.account_id == str(account_id):
        return habilitation  # already applied
    active = rules.account_opened(habilitation, str(account_id))
    await habilitations.save(connection, active, now=now)
    if active.role is HabilitationRole.HEAD:
        organisation_id = uuid.UUID(active.organisation_id)
        post = await organisations.post(connection, organisation_id, for_update=True)
        if post is not None:
            await organisations.save_post(connection, head_account_opened(post, str(account_id)))
    event = events.HabilitationActivated(
        habilitation_id=active.id, organisation_id=active.organisation_id,
        account_id=str(account_id), role=active.role.value, activated_at=now,
    )  # fmt: skip
    await outbox.publish(connection, [event], source=SOURCE)
    return active
