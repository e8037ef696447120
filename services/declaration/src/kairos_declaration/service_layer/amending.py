"""Corrections and cancellations (K20): a new, linked version of the declaration; nothing is
overwritten, the history stays readable, integrators receive each version."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kairos_declaration.adapters import declarations
from kairos_declaration.adapters.declarations import DeclarationVersion
from kairos_declaration.domain.declarations import Kind, trainee_of
from kairos_declaration.domain.errors import DeclarationRejected, DeclarationStateError
from kairos_declaration.domain.versions import (
    DeclarationIdentity,
    VersionHead,
    cancellation_version,
    correction_version,
)
from kairos_declaration.service_layer.access import Actor, DeclarerScope, declarer_scope
from kairos_declaration.service_layer.context import DeclarationContext
from kairos_declaration.service_layer.declaring import (
    Replacing,
    SessionRef,
    Submission,
    accept,
    idempotently,
    rejected,
    store,
    trainee_history,
    view,
)
from kairos_shared.db import Connection
from kairos_shared.idempotency import IdempotentRequest, StoredResponse
from kairos_shared.problems import Problem


@dataclass(frozen=True)
class Correction:
    """The declaration restated whole, and why it is corrected."""

    submission: Submission
    reason: str


def _head(version: DeclarationVersion) -> VersionHead:
    identity = DeclarationIdentity(
        Kind(version.kind), version.action_number, version.session_number, version.trainee_id
    )
    return VersionHead(str(version.declaration_id), identity, version.version, version.cancelled)


def not_found(declaration_id: uuid.UUID) -> Problem:
    return Problem(
        status=404, title="No such declaration", type="not-found",
        detail=f"no declaration {declaration_id}",
    )  # fmt: skip


class _Target:
    """The declaration a correction or cancellation is about, found and authorised in the
    transaction (404 when it does not exist, 403 when it is another organisation's)."""

    def __init__(self, context: DeclarationContext, actor: Actor, declaration_id: uuid.UUID):
        self.context, self.actor, self.declaration_id = context, actor, declaration_id
        self.current: DeclarationVersion | None = None
        self.scope: DeclarerScope | None = None

    async def authorise(self, connection: Connection) -> None:
        self.current = await declarations.current(connection, self.declaration_id, for_update=True)
        if self.current is None:
            raise not_found(self.declaration_id)
        self.scope = await declarer_scope(
            self.context, connection, self.actor, self.current.organisation_id
        )


def _state_conflict(error: DeclarationStateError) -> Problem:
    return Problem(status=409, title="Conflict", detail=str(error), type="declaration-cancelled")


async def correct(
    context: DeclarationContext,
    actor: Actor,
    declaration_id: uuid.UUID,
    correction: Correction,
    request: IdempotentRequest,
) -> tuple[StoredResponse, bool]:
    """A correction restates the whole declaration as its next version (K20)."""
    target = _Target(context, actor, declaration_id)
    submission, reason = correction.submission, correction.reason

    async def effect(connection: Connection, now: datetime) -> tuple[int, dict[str, Any]]:
        assert target.current is not None
        assert target.scope is not None
        declaration = submission.declaration
        identity = DeclarationIdentity(
            declaration.kind, submission.session.action_number,
            submission.session.session_number, trainee_of(declaration),
        )  # fmt: skip
        try:
            correction_version(_head(target.current), identity, reason)
        except DeclarationStateError as error:
            raise _state_conflict(error) from None
        except DeclarationRejected as error:
            raise rejected(error) from None
        replacing = Replacing(target.current, reason)
        version = await accept(
            context, connection, target.scope, submission, now, replacing=replacing
        )
        return 201, view(version)

    return await idempotently(context, actor, request, target.authorise, effect)


async def cancel(
    context: DeclarationContext,
    actor: Actor,
    declaration_id: uuid.UUID,
    reason: str,
    request: IdempotentRequest,
) -> tuple[StoredResponse, bool]:
    """A cancellation is the declaration's last version (K20). An entry is cancelled only
    once nothing else is declared about the trainee in the session (K19)."""
    target = _Target(context, actor, declaration_id)

    async def effect(connection: Connection, now: datetime) -> tuple[int, dict[str, Any]]:
        current = target.current
        assert current is not None
        try:
            version = cancellation_version(_head(current), reason)
        except DeclarationStateError as error:
            raise _state_conflict(error) from None
        except DeclarationRejected as error:
            raise rejected(error) from None
        await _entry_cancellable(connection, current)
        cancelled = dataclasses.replace(
            current, version=version, cancelled=True, reason=reason,
            declared_by=actor.account_id, declared_at=now,
        )  # fmt: skip
        await store(connection, cancelled)
        return 201, view(cancelled)

    return await idempotently(context, actor, request, target.authorise, effect)


async def _entry_cancellable(connection: Connection, current: DeclarationVersion) -> None:
    if current.kind != Kind.ENTRY.value:
        return
    ref = SessionRef(current.action_number, current.session_number)
    history = await trainee_history(
        connection, current.organisation_id, ref, current.trainee_id, current.declaration_id
    )
    if history.exit is not None or history.attendance:
        raise Problem(
            status=409, title="Conflict", type="entry-has-declarations",
            detail="the trainee's exit or attendance in this session is still declared: "
            "cancel them before the entry",
        )  # fmt: skip
