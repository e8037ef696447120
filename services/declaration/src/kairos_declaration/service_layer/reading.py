"""Reading declarations (K22): an organisation's own people and operators only, a page at a
time with a hard maximum, within a per-account rate, and every read of trainee data audited
(who, what, when)."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from typing import Any

from kairos_declaration.adapters import audit, declarations
from kairos_declaration.adapters.declarations import Criteria, LatenessLine
from kairos_declaration.service_layer.access import Actor, reader_scope
from kairos_declaration.service_layer.amending import not_found
from kairos_declaration.service_layer.context import DeclarationContext
from kairos_declaration.service_layer.declaring import view
from kairos_shared.problems import FieldError, invalid_fields


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _cursor(at: datetime, declaration_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{declaration_id}".encode()).decode()


def _position(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        at, declaration_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), uuid.UUID(declaration_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid_fields([FieldError("cursor", "not a cursor this API returned")]) from None


async def search(
    context: DeclarationContext, actor: Actor, criteria: Criteria, cursor: str | None, limit: int
) -> Page:
    """One page of the organisation's current declarations matching `criteria`, oldest first."""
    if not 1 <= limit <= context.page_size_max:
        raise invalid_fields([FieldError("limit", f"between 1 and {context.page_size_max}")])
    context.reads.take(str(actor.account_id))
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        await reader_scope(context, connection, actor, criteria.organisation_id)
        found = await declarations.search(
            connection, criteria, after=_position(cursor), limit=limit + 1
        )
        page = found[:limit]
        asked = {k: v for k, v in asdict(criteria).items() if v not in (None, False)}
        read = audit.Read(actor.account_id, criteria.organisation_id, "declarations", now, asked)
        await audit.record(connection, read, [v.trainee_id for v, _ in page])
    next_cursor = None
    if len(found) > limit:
        last, first_declared_at = page[-1]
        next_cursor = _cursor(first_declared_at, last.declaration_id)
    return Page([view(v) for v, _ in page], next_cursor)


async def history(
    context: DeclarationContext, actor: Actor, declaration_id: uuid.UUID
) -> list[dict[str, Any]]:
    """Every version of one declaration, oldest first (K20)."""
    context.reads.take(str(actor.account_id))
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        current = await declarations.current(connection, declaration_id)
        if current is None:
            raise not_found(declaration_id)
        await reader_scope(context, connection, actor, current.organisation_id)
        versions = await declarations.versions(connection, declaration_id)
        read = audit.Read(actor.account_id, current.organisation_id, "declaration", now,
                          {"declaration_id": str(declaration_id)})  # fmt: skip
        await audit.record(connection, read, [current.trainee_id])
    return [view(v) for v in versions]


async def lateness(
    context: DeclarationContext,
    actor: Actor,
    organisation_id: uuid.UUID,
    period: tuple[date, date],
) -> list[LatenessLine]:
    """Per kind, how many declarations of the period were late (K18); no trainee data. The
    period's days are the organisation zone's: from the start of `since` to the start of
    `until` (excluded), local time."""
    async with context.pool.acquire() as connection:
        scope = await reader_scope(context, connection, actor, organisation_id)
        since, until = (datetime.combine(day, time(0), scope.zone.time_zone) for day in period)
        return await declarations.lateness(connection, organisation_id, since, until)


async def kind_of(context: DeclarationContext, actor: Actor, declaration_id: uuid.UUID) -> str:
    """The kind of a declaration the actor may read (to read a correction's body)."""
    async with context.pool.acquire() as connection:
        current = await declarations.current(connection, declaration_id)
        if current is None:
            raise not_found(declaration_id)
        await reader_scope(context, connection, actor, current.organisation_id)
    return current.kind
