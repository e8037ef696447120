"""What the habilitation service consumes: the identity service's events about organisations,
accounts and sessions, applied once each (inbox) to this service's own view (K9, K10, K11)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

import asyncpg

from kairos_habilitation.adapters import accounts
from kairos_habilitation.service_layer import projections
from kairos_habilitation.service_layer.context import HabilitationContext
from kairos_schemas import Event
from kairos_schemas import identity as events
from kairos_shared.db import Connection
from kairos_shared.dead_letters import DeadLetterPublisher
from kairos_shared.inbox import Delivery, Handler, IdempotentConsumer, typed_handler
from kairos_shared.messaging import Subscription


def _status(
    event_class: type[Event], status: str, now: Callable[[], datetime]
) -> tuple[str, Handler]:
    async def handle(connection: Connection, event: Event, _delivery: Delivery) -> None:
        organisation_id = str(getattr(event, "organisation_id"))  # noqa: B009 - all org events
        await projections.organisation_status_changed(connection, organisation_id, status, now())

    return event_class.event_type, handle


def identity_handlers(context: HabilitationContext) -> dict[str, Handler]:
    def now() -> datetime:
        return context.clock.now()

    async def created(connection: Connection, event: events.AccountCreated) -> None:
        await projections.account_created(connection, event, now())

    async def activated(connection: Connection, event: events.AccountActivated) -> None:
        await accounts.set_status(connection, uuid.UUID(event.account_id), "active")

    async def lapsed(connection: Connection, event: events.AccountLapsed) -> None:
        await accounts.set_status(connection, uuid.UUID(event.account_id), "lapsed")

    async def reissued(
        connection: Connection, event: events.ProvisionalCredentialsReissued
    ) -> None:  # new credentials for a lapsed account (K6): no longer lapsed
        await accounts.lift_lapse(connection, uuid.UUID(event.account_id))

    async def started(connection: Connection, event: events.SessionStarted) -> None:
        await accounts.logged_in(connection, uuid.UUID(event.account_id), event.started_at)

    async def ended(connection: Connection, event: events.SessionEnded) -> None:
        await accounts.session_ended(
            connection, uuid.UUID(event.session_id), uuid.UUID(event.account_id), event.ended_at
        )

    return dict(
        [
            typed_handler(events.AdhesionValidated, projections.adhesion_validated),
            _status(events.OrganisationSuspended, "suspended", now),
            _status(events.OrganisationWithdrawn, "withdrawn", now),
            _status(events.OrganisationReinstated, "active", now),
            _status(events.AdhesionExpired, "expired", now),
            _status(events.AdhesionRenewed, "active", now),
            typed_handler(events.AccountCreated, created),
            typed_handler(events.AccountActivated, activated),
            typed_handler(events.AccountLapsed, lapsed),
            typed_handler(events.ProvisionalCredentialsReissued, reissued),
            typed_handler(events.RgcAccountLapsed, projections.rgc_account_lapsed),
            typed_handler(events.SessionStarted, started),
            typed_handler(events.SessionEnded, ended),
        ]
    )


def subscriptions(
    context: HabilitationContext, pool: asyncpg.Pool, dead_letters: DeadLetterPublisher
) -> Iterable[Subscription]:
    consumer = IdempotentConsumer("identity-view", pool, identity_handlers(context), dead_letters)
    yield Subscription(events.TOPIC, consumer)
