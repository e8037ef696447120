"""Recorded absences (K13, K10): an absence that reaches 3 months ends the habilitation, or
vacates the RGC post, by itself — at once when recorded late, otherwise when a scheduler round
finds it due (safe with several replicas: due rows are claimed with SKIP LOCKED). Its days are
the organisation zone's: the day it reaches 3 months begins at local midnight there."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from kairos_habilitation.adapters import absences, habilitations, organisations
from kairos_habilitation.adapters.absences import RecordedAbsence
from kairos_habilitation.domain.absences import (
    Absence,
    InvalidAbsenceError,
    absence_reaches_three_months,
    date_absence_reaches_three_months,
)
from kairos_habilitation.domain.habilitations import EndReason, HabilitationStatus
from kairos_habilitation.domain.rgc_post import VacancyReason
from kairos_habilitation.service_layer import habilitations as habilitation_steps
from kairos_habilitation.service_layer import rgc
from kairos_habilitation.service_layer.access import Actor, head_scope, rights_holder_scope
from kairos_habilitation.service_layer.context import HabilitationContext
from kairos_habilitation.service_layer.habilitations import conflict, not_found
from kairos_shared.db import Connection
from kairos_shared.problems import FieldError, Problem, invalid_fields
from kairos_shared.zones import Zone


@dataclass(frozen=True)
class AbsenceDates:
    starts_on: date
    ends_on: date | None = None

    def checked(self) -> Absence:
        try:
            return Absence(self.starts_on, self.ends_on)
        except InvalidAbsenceError as error:
            raise invalid_fields([FieldError("ends_on", str(error))]) from None


def today(now: datetime, zone: Zone | str) -> date:
    """The day `now` falls on in the organisation's zone."""
    return now.astimezone(Zone(zone).time_zone).date()


def _new(
    organisation_id: uuid.UUID, dates: Absence, actor: Actor, now: datetime, **subject: uuid.UUID
) -> RecordedAbsence:
    return RecordedAbsence(
        id=uuid.uuid4(), organisation_id=organisation_id,
        habilitation_id=subject.get("habilitation"), rgc_account_id=subject.get("rgc"),
        starts_on=dates.starts_on, ends_on=dates.ends_on,
        reaches_limit_on=date_absence_reaches_three_months(dates.starts_on),
        recorded_by=uuid.UUID(actor.account_id), recorded_at=now,
    )  # fmt: skip


async def record_for_habilitation(
    context: HabilitationContext, actor: Actor, habilitation_id: uuid.UUID, dates: AbsenceDates
) -> RecordedAbsence:
    """The RGC records a habilitated person's absence; one already over 3 months ends the
    habilitation at once (K13)."""
    absence, now = dates.checked(), context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        habilitation = await habilitations.get(connection, habilitation_id, for_update=True)
        if habilitation is None:
            raise not_found(habilitation_id)
        organisation_id = uuid.UUID(habilitation.organisation_id)
        scope = await rights_holder_scope(context, connection, actor, organisation_id)
        if habilitation.status is HabilitationStatus.ENDED:
            raise conflict(f"habilitation {habilitation_id} has ended")
        recorded = _new(organisation_id, absence, actor, now, habilitation=habilitation_id)
        await absences.insert(connection, recorded)
        if absence_reaches_three_months(absence, today(now, scope.organisation.zone)):
            recorded = await _apply(connection, recorded, now)
    return recorded


async def record_for_rgc(
    context: HabilitationContext, actor: Actor, organisation_id: uuid.UUID, dates: AbsenceDates
) -> RecordedAbsence:
    """The head records the RGC's absence; over 3 months, the post falls vacant (K10)."""
    absence, now = dates.checked(), context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        scope = await head_scope(context, connection, actor, organisation_id)
        if scope.post.rgc_account_id is None:
            raise conflict("the RGC post is vacant: there is no RGC to be absent")
        rgc_account = uuid.UUID(scope.post.rgc_account_id)
        recorded = _new(organisation_id, absence, actor, now, rgc=rgc_account)
        await absences.insert(connection, recorded)
        if absence_reaches_three_months(absence, today(now, scope.organisation.zone)):
            recorded = await _apply(connection, recorded, now)
    return recorded


async def record_return(
    context: HabilitationContext, actor: Actor, absence_id: uuid.UUID, ends_on: date
) -> RecordedAbsence:
    """The absent person came back: the last day of absence, while it has not ended anything."""
    async with context.pool.acquire() as connection, connection.transaction():
        recorded = await absences.get(connection, absence_id, for_update=True)
        if recorded is None:
            raise Problem(status=404, title="No such absence", detail=str(absence_id),
                          type="not-found")  # fmt: skip
        if recorded.habilitation_id is not None:
            await rights_holder_scope(context, connection, actor, recorded.organisation_id)
        else:
            await head_scope(context, connection, actor, recorded.organisation_id)
        if recorded.applied_at is not None:
            raise conflict("this absence already reached 3 months and took effect")
        AbsenceDates(recorded.starts_on, ends_on).checked()
        await absences.set_return(connection, absence_id, ends_on)
    return dataclasses.replace(recorded, ends_on=ends_on)


async def _apply(
    connection: Connection, absence: RecordedAbsence, now: datetime
) -> RecordedAbsence:
    """The absence reached 3 months: end the habilitation or vacate the post, if still due."""
    if absence.habilitation_id is not None:
        habilitation = await habilitations.get(connection, absence.habilitation_id, for_update=True)
        if habilitation is not None and habilitation.status is not HabilitationStatus.ENDED:
            await habilitation_steps.end(
                connection, habilitation, EndReason.ABSENCE_OVER_3_MONTHS, now, by=None
            )
    else:
        post = await organisations.post(connection, absence.organisation_id, for_update=True)
        if post is not None and post.rgc_account_id == str(absence.rgc_account_id):
            await rgc.vacate(connection, post, VacancyReason.ABSENCE_OVER_3_MONTHS, now, by=None)
    await absences.mark_applied(connection, absence.id, now)
    return dataclasses.replace(absence, applied_at=now)


async def apply_due(context: HabilitationContext) -> int:
    """One scheduler round: every absence that reached 3 months takes effect; the count."""
    applied = 0
    while True:
        now = context.clock.now()
        async with context.pool.acquire() as connection, connection.transaction():
            todays = {zone.value: today(now, zone) for zone in Zone}
            due = await absences.claim_due(connection, todays, context.batch_size)
            for absence in due:
                await _apply(connection, absence, now)
        applied += len(due)
        if len(due) < context.batch_size:
            return applied
