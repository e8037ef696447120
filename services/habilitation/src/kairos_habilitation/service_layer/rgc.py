"""The RGC post (K10): the adhesion's RGC takes office, a successor once its designation is
validated (service_layer.designations), and the post falls vacant on departure, absence over
3 months, change of function, lapse of the RGC's provisional account or an operator's demand.
While it is vacant the head holds the RGC's rights; `RgcPostVacated` says so, for the head to be
told."""

from __future__ import annotations

import uuid
from datetime import datetime

from kairos_habilitation.adapters import organisations
from kairos_habilitation.domain import rgc_post as rules
from kairos_habilitation.domain.rgc_post import RgcPost, RgcPostError, VacancyReason
from kairos_habilitation.service_layer.access import Actor, head_scope
from kairos_habilitation.service_layer.context import SOURCE, HabilitationContext
from kairos_schemas import habilitation as events
from kairos_shared import outbox
from kairos_shared.db import Connection
from kairos_shared.problems import FieldError, Problem, invalid_fields

VACANCIES_BY_THE_HEAD = frozenset(
    {VacancyReason.DEPARTURE, VacancyReason.ABSENCE_OVER_3_MONTHS, VacancyReason.CHANGE_OF_FUNCTION}
)


async def vacate(
    connection: Connection,
    post: RgcPost,
    reason: VacancyReason,
    now: datetime,
    *,
    by: str | None,
) -> RgcPost:
    """Leave the (locked) post vacant and say who now holds the RGC's rights."""
    former = post.rgc_account_id
    vacant = rules.vacate(post, reason, now)
    await organisations.save_post(connection, vacant)
    assert former is not None  # vacate() refuses a vacant post
    event = events.RgcPostVacated(
        organisation_id=post.organisation_id, reason=reason.value, former_rgc_account_id=former,
        head_account_id=vacant.head_account_id, vacated_at=now, vacated_by=by,
    )  # fmt: skip
    await outbox.publish(connection, [event], source=SOURCE)
    return vacant


async def take_office(
    connection: Connection,
    post: RgcPost,
    account_id: str,
    now: datetime,
    designation_id: str | None = None,
) -> RgcPost:
    designation = rules.designate(post, account_id, now)
    if designation.post == post:
        return post
    await organisations.save_post(connection, designation.post)
    event = events.RgcTookOffice(
        organisation_id=post.organisation_id, rgc_account_id=account_id,
        rgc_designation_id=designation_id, since=now,
    )  # fmt: skip
    await outbox.publish(connection, [event], source=SOURCE)
    return designation.post


def check_vacancy_reason(post: RgcPost, reason: VacancyReason | None) -> VacancyReason | None:
    if post.is_vacant:
        return None
    if reason not in VACANCIES_BY_THE_HEAD:
        allowed = ", ".join(sorted(r.value for r in VACANCIES_BY_THE_HEAD))
        raise invalid_fields(
            [FieldError("reason", f"the RGC in office is relieved first: one of {allowed}")]
        )
    return reason


async def relieve(
    context: HabilitationContext, actor: Actor, organisation_id: uuid.UUID, reason: VacancyReason
) -> RgcPost:
    """The head relieves the RGC (departure, absence over 3 months, change of function)."""
    if reason not in VACANCIES_BY_THE_HEAD:
        allowed = ", ".join(sorted(r.value for r in VACANCIES_BY_THE_HEAD))
        raise invalid_fields([FieldError("reason", f"must be one of {allowed}")])
    async with context.pool.acquire() as connection, connection.transaction():
        await head_scope(context, connection, actor, organisation_id)
        post = await organisations.post(connection, organisation_id, for_update=True)
        assert post is not None  # the scope found it
        try:
            return await vacate(connection, post, reason, context.clock.now(), by=actor.account_id)
        except RgcPostError as error:
            raise Problem(
                status=409, title="Conflict", detail=str(error), type="invalid-state"
            ) from None
