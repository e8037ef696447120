"""What the declaration service consumes to decide who may declare (K17, K9): the identity
service's organisations, lapsed accounts and ended sessions, and the habilitation service's
habilitations and RGC post, each applied once (inbox) to this service's own view."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from kairos_declaration.domain.access import OrganisationStatus
from kairos_declaration.service_layer import projections
from kairos_declaration.service_layer.context import DeclarationContext
from kairos_schemas import habilitation as hab
from kairos_schemas import identity as identity_events
from kairos_shared.db import Connection
from kairos_shared.dead_letters import DeadLetterPublisher
from kairos_shared.inbox import Handler, IdempotentConsumer, typed_handler
from kairos_shared.messaging import Subscription

IDENTITY_CONSUMER = "access-identity"
HABILITATION_CONSUMER = "access-habilitation"
"""Consumer names: their inbox entries and Kafka consumer groups."""


async def _suspended(connection: Connection, event: identity_events.OrganisationSuspended) -> None:
    await projections.organisation_status(
        connection, event.organisation_id, OrganisationStatus.SUSPENDED, event.suspended_at
    )


async def _withdrawn(connection: Connection, event: identity_events.OrganisationWithdrawn) -> None:
    await projections.organisation_status(
        connection, event.organisation_id, OrganisationStatus.WITHDRAWN, event.withdrawn_at
    )


async def _reinstated(
    connection: Connection, event: identity_events.OrganisationReinstated
) -> None:
    await projections.organisation_status(
        connection, event.organisation_id, OrganisationStatus.ACTIVE, event.reinstated_at
    )


async def _expired(connection: Connection, event: identity_events.AdhesionExpired) -> None:
    await projections.organisation_status(
        connection, event.organisation_id, OrganisationStatus.EXPIRED, event.expired_at
    )


async def _renewed(connection: Connection, event: identity_events.AdhesionRenewed) -> None:
    await projections.organisation_status(
        connection, event.organisation_id, OrganisationStatus.ACTIVE, event.renewed_at,
        access_expires_at=event.access_expires_at,
    )  # fmt: skip


def identity_handlers() -> dict[str, Handler]:
    return dict(
        [
            typed_handler(identity_events.AdhesionValidated, projections.adhesion_validated),
            typed_handler(identity_events.OrganisationSuspended, _suspended),
            typed_handler(identity_events.OrganisationWithdrawn, _withdrawn),
            typed_handler(identity_events.OrganisationReinstated, _reinstated),
            typed_handler(identity_events.AdhesionExpired, _expired),
            typed_handler(identity_events.AdhesionRenewed, _renewed),
            typed_handler(identity_events.AccountLapsed, projections.account_lapsed),
            typed_handler(identity_events.RgcAccountLapsed, projections.account_lapsed),
            typed_handler(
                identity_events.ProvisionalCredentialsReissued, projections.credentials_reissued
            ),
            typed_handler(identity_events.SessionEnded, projections.session_ended),
        ]
    )


def habilitation_handlers() -> dict[str, Handler]:
    return dict(
        [
            typed_handler(hab.HabilitationActivated, projections.habilitation_activated),
            typed_handler(hab.HabilitationEnded, projections.habilitation_ended),
            typed_handler(hab.HabilitationSuspended, projections.habilitation_suspended),
            typed_handler(hab.HabilitationReinstated, projections.habilitation_reinstated),
            typed_handler(hab.RgcTookOffice, projections.rgc_took_office),
            typed_handler(hab.RgcPostVacated, projections.rgc_post_vacated),
        ]
    )


def subscriptions(
    context: DeclarationContext,  # noqa: ARG001 - the factories' common signature; the view is dated by the events, not the clock
    pool: asyncpg.Pool,
    dead_letters: DeadLetterPublisher,
) -> Iterable[Subscription]:
    """The access view's consumers, one per topic (independent groups and inbox names)."""
    yield Subscription(
        identity_events.TOPIC,
        IdempotentConsumer(IDENTITY_CONSUMER, pool, identity_handlers(), dead_letters),
    )
    yield Subscription(
        hab.TOPIC,
        IdempotentConsumer(HABILITATION_CONSUMER, pool, habilitation_handlers(), dead_letters),
    )
