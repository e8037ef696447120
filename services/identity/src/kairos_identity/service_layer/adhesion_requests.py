"""Adhesion requests left without a decision expire (K1), in the identity service's deadline
pass: a request still *requested* after the configured time (30 days by default) becomes
*request_expired* and an ``AdhesionRequestExpired`` event tells the head who asked. Rows are
claimed ``FOR UPDATE SKIP LOCKED``: with several replicas each request expires once, its status
and its event committed together."""

from __future__ import annotations

from kairos_identity.adapters import organisations
from kairos_identity.domain import organisations as rules
from kairos_identity.service_layer.context import SOURCE, IdentityContext
from kairos_schemas import Event
from kairos_schemas import identity as events
from kairos_shared import outbox

BATCH = 200


async def expire_pending_requests(context: IdentityContext) -> list[str]:
    """One pass: close the requests whose time is up; the types of the events written."""
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        ids = await connection.fetch(
            """
            SELECT id FROM organisation
            WHERE status = 'requested' AND requested_at <= $1
            ORDER BY requested_at LIMIT $2
            FOR UPDATE SKIP LOCKED
            """,
            now - context.adhesion_request_validity,
            BATCH,
        )
        published: list[Event] = []
        for row in ids:
            record = await organisations.get(connection, row["id"])
            assert record is not None  # locked above
            validity = context.adhesion_request_validity
            if not rules.request_has_expired(record.access, record.requested_at, now, validity):
                continue
            access = rules.expire_request(record.access)
            await organisations.save_access(connection, record.id, access, now=now)
            head = record.head
            published.append(events.AdhesionRequestExpired(
                organisation_id=str(record.id), siret=record.siret,
                legal_name=record.legal_name, zone=record.zone,
                head=events.HeadOfOrganisation(
                    first_name=head.first_name, last_name=head.last_name, email=head.email,
                    function=head.function,
                ),
                requested_at=record.requested_at, expired_at=now,
            ))  # fmt: skip
        await outbox.publish(connection, published, source=SOURCE)
    return [event.event_type for event in published]
