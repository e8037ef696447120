"""Declaring (K16-K21): a declaration is checked against the session and the trainee's live
declarations, dated against its deadline, stored as a version and published for integrators
(transactional outbox) — once per Idempotency-Key, and nothing at all when refused."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kairos_declaration.adapters import declarations, sessions
from kairos_declaration.adapters.declarations import DeclarationVersion, DuplicateDeclarationError
from kairos_declaration.domain.deadlines import due_by, is_late, local_date
from kairos_declaration.domain.declarations import (
    Attendance,
    Declaration,
    Entry,
    Exit,
    trainee_of,
)
from kairos_declaration.domain.errors import DeclarationRejected
from kairos_declaration.domain.history import LiveDeclaration, TraineeHistory
from kairos_declaration.domain.rules import check_declaration
from kairos_declaration.domain.sessions import TrainingSession
from kairos_declaration.service_layer.access import Actor, DeclarerScope, declarer_scope
from kairos_declaration.service_layer.context import SOURCE, DeclarationContext
from kairos_declaration.service_layer.payloads import declaration_of, payload_of
from kairos_declaration.service_layer.publication import event_of
from kairos_shared import idempotency, outbox
from kairos_shared.db import Connection
from kairos_shared.idempotency import IdempotentRequest, StoredResponse
from kairos_shared.problems import FieldError, Problem, invalid_fields

JSON = "application/json"


@dataclass(frozen=True)
class SessionRef:
    action_number: str
    session_number: str


@dataclass(frozen=True)
class Submission:
    """A declaration as sent: the session it is about and the kind's own fields."""

    session: SessionRef
    declaration: Declaration


@dataclass(frozen=True)
class Replacing:
    """The current version a correction or cancellation follows, and why."""

    current: DeclarationVersion
    reason: str


def rejected(error: DeclarationRejected, *, prefix: str = "") -> Problem:
    """422 naming every bad field (`rows[3].month` in a batch)."""
    return invalid_fields([FieldError(prefix + p.field, p.message) for p in error.problems])


def view(version: DeclarationVersion) -> dict[str, Any]:
    """A version as the API shows it: its event's data (what integrators receive)."""
    data: dict[str, Any] = json.loads(event_of(version).model_dump_json())
    return {"kind": version.kind, "cancelled": version.cancelled, **data}


async def answer(
    connection: Connection,
    actor: Actor,
    request: IdempotentRequest,
    reply: tuple[int, dict[str, Any]],
    now: datetime,
) -> StoredResponse:
    """The response, stored with the key in the effect's transaction (replayed on retries)."""
    status, body = reply
    content = json.dumps(body, separators=(",", ":"), default=str).encode()
    scope = str(actor.account_id)
    await idempotency.complete(connection, scope, request.key, status, content, JSON, now=now)
    return StoredResponse(status, content, JSON)


async def idempotently(
    context: DeclarationContext,
    actor: Actor,
    request: IdempotentRequest,
    authorise: Callable[[Connection], Awaitable[object]],
    effect: Callable[[Connection, datetime], Awaitable[tuple[int, dict[str, Any]]]],
) -> tuple[StoredResponse, bool]:
    """Run `effect` once per key (K21: nothing twice): authorise, claim the key, apply, store
    the answer — all in one transaction. (answer, True) when it is a replay."""
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        await authorise(connection)
        stored = await idempotency.begin(
            connection, str(actor.account_id), request.key, request.request_hash, now=now
        )
        if stored is not None:
            return stored, True
        reply = await effect(connection, now)
        return await answer(connection, actor, request, reply, now), False


async def declare(
    context: DeclarationContext,
    actor: Actor,
    organisation_id: uuid.UUID,
    submission: Submission,
    request: IdempotentRequest,
) -> tuple[StoredResponse, bool]:
    """Accept one declaration (201) or refuse it naming its fields (422), once per key."""
    scope: DeclarerScope | None = None

    async def authorise(connection: Connection) -> None:
        nonlocal scope
        scope = await declarer_scope(context, connection, actor, organisation_id)

    async def effect(connection: Connection, now: datetime) -> tuple[int, dict[str, Any]]:
        assert scope is not None
        version = await accept(context, connection, scope, submission, now)
        return 201, view(version)

    return await idempotently(context, actor, request, authorise, effect)


async def training_session(
    connection: Connection, organisation_id: uuid.UUID, ref: SessionRef, field: str = "session"
) -> TrainingSession:
    stored = await sessions.get(connection, organisation_id, ref.action_number, ref.session_number)
    if stored is None:
        raise invalid_fields([FieldError(field, (
            f"no session {ref.action_number} / {ref.session_number} is registered for this "
            f"organisation: register it first (POST /v1/organisations/{organisation_id}/sessions)"
        ))])  # fmt: skip
    return TrainingSession(
        stored.action_number, stored.session_number, stored.starts_on, stored.ends_on,
        stored.weekly_hours,
    )  # fmt: skip


def lock_key(organisation_id: uuid.UUID, ref: SessionRef, trainee_id: str | None) -> str:
    owner = trainee_id or "session"
    return f"{organisation_id}/{owner}/{ref.action_number}/{ref.session_number}"


async def trainee_history(
    connection: Connection,
    organisation_id: uuid.UUID,
    ref: SessionRef,
    trainee_id: str | None,
    without: uuid.UUID | None = None,
) -> TraineeHistory:
    """The trainee's live entry, exit and statements in the session (locked for this
    transaction, so that two requests about one trainee and session are judged one by one)."""
    if trainee_id is None:
        return TraineeHistory()
    key = lock_key(organisation_id, ref, trainee_id)
    await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)
    stored = await declarations.trainee_history(
        connection, organisation_id, trainee_id, ref.action_number, ref.session_number
    )
    return with_versions(TraineeHistory(), stored, without)


def with_versions(
    history: TraineeHistory,
    versions: Iterable[DeclarationVersion],
    without: uuid.UUID | None = None,
) -> TraineeHistory:
    """`history` with the live `versions` the rules read (entries, exits, attendance) added."""
    live = list(history.declarations)
    for version in versions:
        declaration = declaration_of(version.kind, version.trainee_id, version.payload)
        if version.declaration_id != without and isinstance(declaration, Entry | Exit | Attendance):
            live.append(LiveDeclaration(str(version.declaration_id), declaration))
    return TraineeHistory(tuple(live))


async def trainee_histories(
    connection: Connection, organisation_id: uuid.UUID, trainees: Iterable[tuple[SessionRef, str]]
) -> dict[tuple[SessionRef, str], TraineeHistory]:
    """`trainee_history` of many trainees at once, in two round trips (a batch): every lock
    taken, in one order (two batches never wait on each other crosswise), then every history
    read in one query."""
    wanted = set(trainees)
    keys = sorted({lock_key(organisation_id, ref, trainee) for ref, trainee in wanted})
    await connection.execute(
        "SELECT count(pg_advisory_xact_lock(hashtextextended(key, 0))) FROM unnest($1::text[]) key",
        keys,
    )
    stored = await declarations.trainee_histories(
        connection, organisation_id,
        [(trainee, ref.action_number, ref.session_number) for ref, trainee in wanted],
    )  # fmt: skip
    return {
        (ref, trainee): with_versions(
            TraineeHistory(), stored.get((trainee, ref.action_number, ref.session_number), [])
        )
        for ref, trainee in wanted
    }


async def accept(
    context: DeclarationContext,
    connection: Connection,
    scope: DeclarerScope,
    submission: Submission,
    now: datetime,
    *,
    replacing: Replacing | None = None,
) -> DeclarationVersion:
    """Check, date, store and publish one declaration (or a correction of `replacing`)."""
    organisation_id, declaration = scope.organisation_id, submission.declaration
    session = await training_session(connection, organisation_id, submission.session)
    trainee = trainee_of(declaration)
    without = None if replacing is None else replacing.current.declaration_id
    history = await trainee_history(
        connection, organisation_id, submission.session, trainee, without
    )
    version = judge(context, scope, submission, session, history, now=now, replacing=replacing)
    await store(connection, version)
    return version


def judge(
    context: DeclarationContext,
    scope: DeclarerScope,
    submission: Submission,
    session: TrainingSession,
    history: TraineeHistory,
    *,
    now: datetime,
    replacing: Replacing | None = None,
) -> DeclarationVersion:
    """The version `submission` makes, checked against the session and the trainee's live
    `history` and dated against its deadline (a 422 naming its fields when refused). A
    correction is judged late or not on when its first version was declared (K18): correcting
    keeps the lateness of the first declaration, whenever the correction comes."""
    organisation_id, declaration = scope.organisation_id, submission.declaration
    trainee = trainee_of(declaration)
    try:
        check_declaration(declaration, session, history, local_date(now, scope.zone), scope.zone)
    except DeclarationRejected as error:
        raise rejected(error) from None
    due = due_by(
        declaration.kind, declaration, scope.zone, context.deadlines,
        calendar=context.calendar, declared_at=now,
    )  # fmt: skip
    first_declared_at = now if replacing is None else replacing.current.judged_at
    return DeclarationVersion(
        declaration_id=uuid.uuid4() if replacing is None else replacing.current.declaration_id,
        version=1 if replacing is None else replacing.current.version + 1,
        organisation_id=organisation_id, kind=declaration.kind.value,
        action_number=submission.session.action_number,
        session_number=submission.session.session_number, trainee_id=trainee,
        payload=payload_of(declaration), cancelled=False,
        reason=None if replacing is None else replacing.reason,
        declared_by=scope.actor.account_id, declared_at=now, due_by=due,
        late=is_late(due, first_declared_at, scope.zone),
        attendance_month=getattr(getattr(declaration, "month", None), "first_day", None),
        first_declared_at=first_declared_at,
    )  # fmt: skip


async def store(connection: Connection, version: DeclarationVersion) -> None:
    """Record the version and its event in the same transaction (K21: integrators see exactly
    the accepted declarations)."""
    try:
        await declarations.record(connection, version)
    except DuplicateDeclarationError:
        field = "month" if version.kind == "attendance" else "trainee_id"
        raise invalid_fields(
            [FieldError(field, f"a live {version.kind} declaration exists already")]
        ) from None
    await outbox.publish(connection, [event_of(version)], source=SOURCE)


async def store_many(connection: Connection, versions: Sequence[DeclarationVersion]) -> bool:
    """`store` each of `versions` (new declarations), in order, a round trip for them all;
    False, with nothing stored, when one is refused as a duplicate (the caller then stores
    them one by one to know which)."""
    try:
        async with connection.transaction():  # a savepoint
            await declarations.record_many(connection, versions)
    except DuplicateDeclarationError:
        return False
    await outbox.publish(connection, [event_of(version) for version in versions], source=SOURCE)
    return True
