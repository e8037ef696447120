"""What the identity service consumes from the habilitation service, each event applied once in
its inbox transaction: habilitations recorded, ended, suspended and reinstated (K11, K13, K14)
and the RGC post designated or vacated (K10). No event carries a secret."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import asyncpg

from kairos_identity.service_layer import habilitations, rgc_post
from kairos_identity.service_layer.context import IdentityContext
from kairos_schemas import Event
from kairos_schemas import habilitation as events
from kairos_shared.db import Connection
from kairos_shared.dead_letters import DeadLetterPublisher
from kairos_shared.inbox import Delivery, Handler, IdempotentConsumer
from kairos_shared.messaging import Subscription

E = TypeVar("E", bound=Event)


def _handler(
    kind: type[E],
    apply: Callable[[IdentityContext, Connection, E], Awaitable[None]],
    context: IdentityContext,
) -> tuple[str, Handler]:
    """The inbox handler of one event type: `apply` gets the context and the event, typed."""

    async def handle(connection: Connection, event: Event, _delivery: Delivery) -> None:
        assert isinstance(event, kind)
        await apply(context, connection, event)

    return kind.event_type, handle


def subscriptions(
    context: IdentityContext, pool: asyncpg.Pool, dead_letters: DeadLetterPublisher
) -> Iterable[Subscription]:
    handlers = dict([
        _handler(events.HabilitationRecorded, habilitations.open_account, context),
        _handler(events.HabilitationEnded, habilitations.close_account, context),
        _handler(events.HabilitationSuspended, habilitations.suspend, context),
        _handler(events.HabilitationReinstated, habilitations.reinstate, context),
        _handler(events.RgcDesignated, rgc_post.open_designated_rgc_account, context),
        _handler(events.RgcPostVacated, rgc_post.relieve_former_rgc, context),
    ])  # fmt: skip
    yield Subscription(events.TOPIC, IdempotentConsumer("accounts", pool, handlers, dead_letters))
