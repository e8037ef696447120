"""Operator demands (K10, K15): an operator lists the habilitations that usage does not
justify (no login for `unused_after`) and demands that the organisation end them, or demands
the revocation of its RGC, before a deadline. The holder of the RGC's rights complies by
ending each habilitation (by any means) or justifies keeping it; a revocation is complied with
once that RGC is no longer in office (relieved by the head, lapsed...) and cannot be justified.
At the deadline what is left is enforced: the habilitation ends (reason operator_demand), the
RGC post falls vacant (the head then holds the RGC's rights). Each demand settles once, in the
transaction that publishes OperatorDemandSettled (claimed with SKIP LOCKED)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kairos_habilitation.adapters import demands, flags, habilitations, organisations
from kairos_habilitation.adapters.demands import DemandItem, StoredDemand
from kairos_habilitation.domain.habilitations import EndReason, HabilitationStatus
from kairos_habilitation.domain.rgc_post import VacancyReason
from kairos_habilitation.service_layer import flags as flag_rules
from kairos_habilitation.service_layer import habilitations as habilitation_steps
from kairos_habilitation.service_layer import listing, rgc
from kairos_habilitation.service_layer.access import (
    Actor,
    reader_scope,
    require_operator,
    rights_holder_scope,
)
from kairos_habilitation.service_layer.context import SOURCE, HabilitationContext
from kairos_habilitation.service_layer.habilitations import conflict
from kairos_habilitation.service_layer.listing import HabilitationLine
from kairos_schemas import habilitation as events
from kairos_shared import outbox
from kairos_shared.db import Connection
from kairos_shared.problems import FieldError, Problem, invalid_fields

END_HABILITATIONS = "end_habilitations"
REVOKE_RGC = "revoke_rgc"
LISTED_AT_MOST = 200
"""Demands listed per organisation, newest first."""


@dataclass(frozen=True)
class DemandRequest:
    kind: str
    habilitation_ids: Sequence[uuid.UUID]
    reason: str
    deadline: datetime | None = None
    flag_ids: Sequence[uuid.UUID] = ()
    """Flags of the annual review (K14) this demand answers: their habilitations are demanded
    ended too, and each flag records the demand."""


@dataclass(frozen=True)
class DemandState:
    demand: StoredDemand
    items: list[DemandItem]


def demand_not_found(demand_id: uuid.UUID) -> Problem:
    return Problem(
        status=404, title="No such demand", detail=f"no demand {demand_id}", type="not-found"
    )


async def _state(connection: Connection, demand: StoredDemand) -> DemandState:
    return DemandState(demand, (await demands.items(connection, [demand.id]))[demand.id])


async def unjustified(
    context: HabilitationContext, actor: Actor, organisation_id: uuid.UUID
) -> list[HabilitationLine]:
    """The active habilitations whose holder has not logged in for `unused_after` (K15)."""
    require_operator(actor)
    lines = await listing.habilitation_list(context, actor, organisation_id, "live")
    return [line for line in lines if line.unused]


async def issue(
    context: HabilitationContext, actor: Actor, organisation_id: uuid.UUID, request: DemandRequest
) -> DemandState:
    """An operator demands habilitations ended (K15) or the RGC revoked (K10)."""
    require_operator(actor)
    now = context.clock.now()
    deadline = request.deadline or now + context.demand_period
    if deadline <= now:
        raise invalid_fields([FieldError("deadline", "must be in the future")])
    async with context.pool.acquire() as connection, connection.transaction():
        await reader_scope(context, connection, actor, organisation_id)
        request = await _with_flagged(connection, organisation_id, request)
        items = await _items(connection, organisation_id, request)
        demand = StoredDemand(
            id=uuid.uuid4(), organisation_id=organisation_id, kind=request.kind,
            reason=request.reason, issued_by=uuid.UUID(actor.account_id), issued_at=now,
            deadline=deadline,
        )  # fmt: skip
        await demands.insert(connection, demand, items)
        await flags.answered(connection, request.flag_ids, demand.id)
        rgc_account = items[0].rgc_account_id
        issued = events.OperatorDemandIssued(
            organisation_id=str(organisation_id), demand_id=str(demand.id), kind=request.kind,
            habilitation_ids=[str(h) for h in request.habilitation_ids],
            rgc_account_id=None if rgc_account is None else str(rgc_account),
            reason=request.reason, issued_by=actor.account_id, issued_at=now, deadline=deadline,
            flag_ids=[str(f) for f in request.flag_ids],
        )  # fmt: skip
        await outbox.publish(connection, [issued], source=SOURCE)
        return await _state(connection, demand)


async def _with_flagged(
    connection: Connection, organisation_id: uuid.UUID, request: DemandRequest
) -> DemandRequest:
    """The request with the habilitations of the flags it answers (K14, K15)."""
    if not request.flag_ids:
        return request
    if request.kind != END_HABILITATIONS:
        raise invalid_fields(
            [FieldError("flag_ids", "a flag is answered by a demand to end habilitations")]
        )
    answered = await flag_rules.answerable(connection, organisation_id, request.flag_ids)
    named = list(request.habilitation_ids)
    named += [f.habilitation_id for f in answered if f.habilitation_id not in named]
    return dataclasses.replace(request, habilitation_ids=named)


async def _items(
    connection: Connection, organisation_id: uuid.UUID, request: DemandRequest
) -> list[DemandItem]:
    if request.kind == REVOKE_RGC:
        if request.habilitation_ids:
            raise invalid_fields(
                [FieldError("habilitation_ids", "must be empty: the RGC's revocation is asked")]
            )
        post = await organisations.post(connection, organisation_id)
        if post is None or post.rgc_account_id is None:
            raise conflict("the RGC post is vacant: there is no RGC to revoke", "rgc-post-vacant")
        return [DemandItem(0, None, uuid.UUID(post.rgc_account_id))]
    if not request.habilitation_ids:
        raise invalid_fields([FieldError("habilitation_ids", "name at least one habilitation")])
    errors: list[FieldError] = []
    for index, habilitation_id in enumerate(request.habilitation_ids):
        why = await _not_demandable(connection, organisation_id, habilitation_id)
        if habilitation_id in request.habilitation_ids[:index]:
            why = "named twice"
        if why is not None:
            errors.append(FieldError(f"habilitation_ids[{index}]", why))
    if errors:
        raise invalid_fields(errors)
    return [DemandItem(i, h, None) for i, h in enumerate(request.habilitation_ids)]


async def _not_demandable(
    connection: Connection, organisation_id: uuid.UUID, habilitation_id: uuid.UUID
) -> str | None:
    habilitation = await habilitations.get(connection, habilitation_id)
    if habilitation is None or habilitation.organisation_id != str(organisation_id):
        return f"no habilitation {habilitation_id} in this organisation"
    if habilitation.status is HabilitationStatus.ENDED:
        return f"habilitation {habilitation_id} has ended"
    return None


async def of_organisation(
    context: HabilitationContext, actor: Actor, organisation_id: uuid.UUID
) -> list[DemandState]:
    """The organisation's demands, newest first, with how each item stands."""
    async with context.pool.acquire() as connection, connection.transaction(readonly=True):
        await reader_scope(context, connection, actor, organisation_id)
        found = await demands.of_organisation(connection, organisation_id, LISTED_AT_MOST)
        items = await demands.items(connection, [demand.id for demand in found])
    return [DemandState(demand, items[demand.id]) for demand in found]


async def justify(
    context: HabilitationContext,
    actor: Actor,
    demand_id: uuid.UUID,
    habilitation_id: uuid.UUID,
    justification: str,
) -> DemandState:
    """The rights holder justifies keeping a demanded habilitation; the demand settles at once
    when every item is then complied with."""
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        demand = await demands.get(connection, demand_id, for_update=True)
        if demand is None:
            raise demand_not_found(demand_id)
        await rights_holder_scope(context, connection, actor, demand.organisation_id)
        item = _justifiable(await _state(connection, demand), habilitation_id, now)
        await demands.justify(
            connection, demand_id, item.position, justification,
            by=uuid.UUID(actor.account_id), at=now,
        )  # fmt: skip
        if await _settle(connection, demand, now):
            demand = dataclasses.replace(demand, settled_at=now)
        return await _state(connection, demand)


def _justifiable(state: DemandState, habilitation_id: uuid.UUID, now: datetime) -> DemandItem:
    demand = state.demand
    if demand.settled_at is not None or now >= demand.deadline:
        raise conflict("this demand's deadline has passed: it is settled", "demand-settled")
    if demand.kind == REVOKE_RGC:
        raise conflict(
            "a demand to revoke the RGC cannot be justified: relieve the RGC (CGU §4.1)",
            "not-justifiable",
        )
    item = next((i for i in state.items if i.habilitation_id == habilitation_id), None)
    if item is None:
        raise invalid_fields([FieldError("habilitation_id", "not named in this demand")])
    if item.habilitation_ended:
        raise conflict(f"habilitation {habilitation_id} has ended: the demand is complied with")
    return item


async def settle_demands(context: HabilitationContext) -> int:
    """One scheduler round: every demand complied with, or whose deadline came, settles (what
    is left is enforced); how many settled."""
    settled, after = 0, None
    while True:
        now = context.clock.now()
        async with context.pool.acquire() as connection, connection.transaction():
            due = await demands.claim_due(connection, now, after, context.batch_size)
            for demand in due:
                if await _settle(connection, demand, now):
                    settled += 1
        if len(due) < context.batch_size:
            return settled
        after = due[-1].id


async def _settle(connection: Connection, demand: StoredDemand, now: datetime) -> bool:
    """Settle `demand` (locked, not settled): each item's outcome, enforcing what is left once
    the deadline came; False (nothing done) while an item is open before the deadline."""
    items = (await _state(connection, demand)).items
    if now < demand.deadline and not all(item.complied for item in items):
        return False
    outcomes = [await _outcome(connection, demand, item, now) for item in items]
    await demands.settle(
        connection, demand.id,
        [(item.position, o.outcome) for item, o in zip(items, outcomes, strict=True)], now,
    )  # fmt: skip
    settled = events.OperatorDemandSettled(
        organisation_id=str(demand.organisation_id), demand_id=str(demand.id),
        kind=demand.kind, settled_at=now, outcomes=outcomes,
    )  # fmt: skip
    await outbox.publish(connection, [settled], source=SOURCE)
    return True


async def _outcome(
    connection: Connection, demand: StoredDemand, item: DemandItem, now: datetime
) -> events.DemandOutcome:
    habilitation_id = None if item.habilitation_id is None else str(item.habilitation_id)
    outcome = item.complied
    if outcome is None:
        outcome = "enforced" if await _enforce(connection, demand, item, now) else "moot"
    return events.DemandOutcome(
        habilitation_id=habilitation_id, outcome=outcome, justification=item.justification
    )


async def _enforce(
    connection: Connection, demand: StoredDemand, item: DemandItem, now: datetime
) -> bool:
    """End the habilitation, or vacate the post the same RGC still holds; False when nothing
    was left to do (it ended, or the RGC left, since the item was read)."""
    if item.habilitation_id is not None:
        habilitation = await habilitations.get(connection, item.habilitation_id, for_update=True)
        if habilitation is None or habilitation.status is HabilitationStatus.ENDED:
            return False
        await habilitation_steps.end(
            connection, habilitation, EndReason.OPERATOR_DEMAND, now, by=None
        )
        return True
    post = await organisations.post(connection, demand.organisation_id, for_update=True)
    if post is None or post.rgc_account_id != str(item.rgc_account_id):
        return False
    await rgc.vacate(connection, post, VacancyReason.OPERATOR_DEMAND, now, by=None)
    return True
