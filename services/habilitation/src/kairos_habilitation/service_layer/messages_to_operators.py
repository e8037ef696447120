"""« Écrire à France Travail »: a message to the operators written without an account, for an
organisation none of whose people can log in (suspended, withdrawn, credentials never received).
Checked as a designation request without an account is: the SIRET and the head as the adhesion
declared them. Whether it matched is never told (no enumeration): a message that fails the check
gets the same answer, and nothing is sent; it is logged."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import structlog

from kairos_habilitation.adapters import organisations
from kairos_habilitation.domain import designations as rules
from kairos_habilitation.domain.designations import DeclaredHead
from kairos_habilitation.service_layer.context import SOURCE, HabilitationContext
from kairos_schemas import habilitation as events
from kairos_schemas import identity as identity_events
from kairos_shared import outbox

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class MessageToOperators:
    siret: str
    head: DeclaredHead
    subject: str
    text: str


async def send(context: HabilitationContext, message: MessageToOperators) -> uuid.UUID:
    """The message's id, whether or not it matched; only a matching one is forwarded."""
    message_id = uuid.uuid4()
    async with context.pool.acquire() as connection, connection.transaction():
        organisation = await organisations.by_siret(connection, message.siret)
        declared = None if organisation is None else DeclaredHead(
            organisation.head_first_name, organisation.head_last_name, organisation.head_email
        )  # fmt: skip
        if (
            organisation is None
            or declared is None
            or not rules.is_the_declared_head(declared, message.head)
        ):
            log.info(
                "message to operators not forwarded: SIRET and head do not match an adhesion",
                message_id=str(message_id), siret=message.siret,
            )  # fmt: skip
            return message_id
        sent = events.MessageToOperatorsSent(
            organisation_id=str(organisation.id), message_id=str(message_id),
            sender=identity_events.Person(
                first_name=message.head.first_name, last_name=message.head.last_name,
                email=message.head.email,
            ),
            subject=message.subject, text=message.text, sent_at=context.clock.now(),
        )  # fmt: skip
        await outbox.publish(connection, [sent], source=SOURCE)
    return message_id
