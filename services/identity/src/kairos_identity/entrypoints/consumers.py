"""What the identity service consumes: a habilitation recorded by an RGC becomes the person's
account (K11), with no secret in any event; the RGC retrieves the credentials, once."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import asyncpg

from kairos_identity.adapters import accounts, organisations
from kairos_identity.adapters.organisations import Contact
from kairos_identity.domain.accounts import Role
from kairos_identity.domain.organisations import OrganisationStatus
from kairos_identity.service_layer.adhesions import create_account
from kairos_identity.service_layer.context import IdentityContext
from kairos_identity.service_layer.sessions import end_sessions
from kairos_schemas import Event
from kairos_schemas import habilitation as habilitation_events
from kairos_shared.db import Connection
from kairos_shared.dead_letters import DeadLetterPublisher
from kairos_shared.inbox import Delivery, IdempotentConsumer, RejectedEventError
from kairos_shared.messaging import Subscription


def subscriptions(
    context: IdentityContext, pool: asyncpg.Pool, dead_letters: DeadLetterPublisher
) -> Iterable[Subscription]:
    async def on_habilitation_recorded(
        connection: Connection, event: Event, _delivery: Delivery
    ) -> None:
        assert isinstance(event, habilitation_events.HabilitationRecorded)
        await open_habilitated_account(context, connection, event)

    async def on_habilitation_ended(
        connection: Connection, event: Event, _delivery: Delivery
    ) -> None:
        assert isinstance(event, habilitation_events.HabilitationEnded)
        await close_habilitated_account(context, connection, event)

    handlers = {
        habilitation_events.HabilitationRecorded.event_type: on_habilitation_recorded,
        habilitation_events.HabilitationEnded.event_type: on_habilitation_ended,
    }
    yield Subscription(
        habilitation_events.TOPIC, IdempotentConsumer("accounts", pool, handlers, dead_letters)
    )


async def open_habilitated_account(
    context: IdentityContext,
    connection: Connection,
    event: habilitation_events.HabilitationRecorded,
) -> None:
    organisation = await organisations.get(connection, uuid.UUID(event.organisation_id))
    if organisation is None or organisation.access.status is not OrganisationStatus.ACTIVE:
        status = "unknown" if organisation is None else organisation.access.status.value
        raise RejectedEventError(
            f"habilitation {event.habilitation_id}: organisation {event.organisation_id}"
            f" is {status}"
        )
    person = Contact(event.person.first_name, event.person.last_name, event.person.email)
    await create_account(
        context, connection, person, Role(event.role),
        organisation_id=organisation.id, habilitation_id=uuid.UUID(event.habilitation_id),
        issue_password=False,
    )  # fmt: skip


async def close_habilitated_account(
    context: IdentityContext,
    connection: Connection,
    event: habilitation_events.HabilitationEnded,
) -> None:
    """The holder of an ended habilitation can no longer log in; their sessions end now (K13,
    K9). An account that never existed (the habilitation ended first) needs nothing."""
    account_id = await accounts.disable_for_habilitation(
        connection, uuid.UUID(event.habilitation_id)
    )
    if account_id is not None:
        await end_sessions(
            connection,
            [account_id],
            reason="habilitation_ended",
            now=context.clock.now(),
            organisation_id=event.organisation_id,
        )
