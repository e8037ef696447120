"""What the notification service consumes: the identity, habilitation and declaration events,
each applied once (inbox) to the directory of recipients and turned into queued e-mails."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from kairos_notification.service_layer.context import NotificationContext
from kairos_notification.service_layer.queueing import on_event
from kairos_schemas import Event, declaration, habilitation, identity
from kairos_schemas.events import REGISTRY
from kairos_shared.db import Connection
from kairos_shared.dead_letters import DeadLetterPublisher
from kairos_shared.inbox import Delivery, Handler, IdempotentConsumer
from kairos_shared.messaging import Subscription

TOPICS = (identity.TOPIC, habilitation.TOPIC, declaration.TOPIC)


def _handlers(context: NotificationContext, topic: str) -> dict[str, Handler]:
    async def handle(connection: Connection, event: Event, delivery: Delivery) -> None:
        await on_event(
            connection, context.renderer, event, delivery, context.clock.now(),
            operators_mailbox=context.operators_mailbox,
        )  # fmt: skip

    return {event_class.event_type: handle for event_class in REGISTRY.events(topic)}


def subscriptions(
    context: NotificationContext, pool: asyncpg.Pool, dead_letters: DeadLetterPublisher
) -> Iterable[Subscription]:
    for topic in TOPICS:
        name = f"mail-{topic.split('.')[1]}"  # its inbox entries and Kafka consumer group
        consumer = IdempotentConsumer(name, pool, _handlers(context, topic), dead_letters)
        yield Subscription(topic, consumer)
