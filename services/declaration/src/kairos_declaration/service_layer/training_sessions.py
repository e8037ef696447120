"""The OF's training sessions (K16): registered before anything is declared about them; their
dates and weekly hours bound the declarations (K19)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from kairos_declaration.adapters import sessions
from kairos_declaration.adapters.sessions import StoredSession
from kairos_declaration.domain.errors import DeclarationRejected
from kairos_declaration.domain.identifiers import parse_carif_oref_number
from kairos_declaration.domain.sessions import training_session
from kairos_declaration.service_layer.access import Actor, declarer_scope, reader_scope
from kairos_declaration.service_layer.context import DeclarationContext
from kairos_declaration.service_layer.declaring import idempotently, rejected
from kairos_shared.db import Connection
from kairos_shared.idempotency import IdempotentRequest, StoredResponse


def session_view(session: StoredSession) -> dict[str, Any]:
    view = asdict(session)
    view["weekly_hours"] = float(session.weekly_hours)
    return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in view.items()}


async def register(
    context: DeclarationContext,
    actor: Actor,
    organisation_id: uuid.UUID,
    fields: tuple[str, str, date, date, float],
    request: IdempotentRequest,
) -> tuple[StoredResponse, bool]:
    """Register (or update the dates and hours of) a session, once per key."""
    action_number, session_number, starts_on, ends_on, weekly_hours = fields
    try:
        action_number = parse_carif_oref_number(action_number, "action_number")
        session_number = parse_carif_oref_number(session_number, "session_number")
        checked = training_session(action_number, session_number, starts_on, ends_on, weekly_hours)
    except DeclarationRejected as error:
        raise rejected(error) from None

    async def authorise(connection: Connection) -> None:
        await declarer_scope(context, connection, actor, organisation_id)

    async def effect(connection: Connection, now: datetime) -> tuple[int, dict[str, Any]]:
        stored = await sessions.upsert(connection, StoredSession(
            organisation_id, checked.action_number, checked.session_number, checked.starts_on,
            checked.ends_on, checked.weekly_hours, actor.account_id, now,
        ))  # fmt: skip
        return 201, session_view(stored)

    return await idempotently(context, actor, request, authorise, effect)


async def list_sessions(
    context: DeclarationContext,
    actor: Actor,
    organisation_id: uuid.UUID,
    after: tuple[str, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    async with context.pool.acquire() as connection:
        await reader_scope(context, connection, actor, organisation_id)
        found = await sessions.list_of(connection, organisation_id, after=after, limit=limit)
    return [session_view(s) for s in found]
