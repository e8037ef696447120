"""Monthly attendance in batches (K16.6, K19): thousands of statements in one request, each row
judged like a single declaration. All or nothing by default: one bad row refuses the batch,
names the row and its fields, and nothing is stored; `all_or_nothing=False` keeps the good rows
and reports the others."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kairos_declaration.adapters.declarations import DeclarationVersion
from kairos_declaration.domain.declarations import trainee_of
from kairos_declaration.domain.errors import DeclarationRejected
from kairos_declaration.domain.history import TraineeHistory
from kairos_declaration.domain.sessions import TrainingSession
from kairos_declaration.service_layer.access import Actor, DeclarerScope, declarer_scope
from kairos_declaration.service_layer.context import DeclarationContext
from kairos_declaration.service_layer.declaring import (
    SessionRef,
    Submission,
    accept,
    idempotently,
    judge,
    store_many,
    trainee_histories,
    training_session,
    with_versions,
)
from kairos_shared.db import Connection
from kairos_shared.idempotency import IdempotentRequest, StoredResponse
from kairos_shared.problems import FieldError, Problem, invalid_fields

Row = Submission | DeclarationRejected
"""A row as parsed: a submission, or what made it unreadable."""


def _row_errors(index: int, errors: Sequence[FieldError]) -> list[FieldError]:
    return [FieldError(f"rows[{index}].{e.field}", e.message) for e in errors]


def _errors_of(problem: Problem) -> list[FieldError]:
    """A row's own errors: only field errors (422) are; anything else fails the request."""
    if problem.status != 422:  # noqa: PLR2004 - only field errors are a row's own
        raise problem
    return list(problem.errors) or [FieldError("", problem.detail)]


def _result(version: DeclarationVersion) -> dict[str, Any]:
    return {"declaration_id": str(version.declaration_id), "late": version.late,
            "due_by": version.due_by.isoformat()}  # fmt: skip


async def _judge(
    context: DeclarationContext,
    connection: Connection,
    scope: DeclarerScope,
    row: Row,
    now: datetime,
) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """Accept one row inside its own savepoint: (its result, []) or (None, its errors)."""
    if isinstance(row, DeclarationRejected):
        return None, [FieldError(p.field, p.message) for p in row.problems]
    try:
        async with connection.transaction():  # a savepoint: a refused row leaves nothing
            version = await accept(context, connection, scope, row, now)
    except Problem as problem:
        return None, _errors_of(problem)
    return _result(version), []


Judged = DeclarationVersion | list[FieldError]
"""A row's verdict: the version it makes, or its errors."""


async def _judge_all(
    context: DeclarationContext,
    connection: Connection,
    scope: DeclarerScope,
    rows: Sequence[Row],
    now: datetime,
) -> list[Judged]:
    """Every row judged as `_judge` would one after another, in a few round trips for the
    whole batch: each session read once; every trainee's lock taken and history read at once;
    then the rows judged in order, each against its trainee's history with the batch's
    accepted rows added (a second statement for a month is refused as it would be after the
    first was stored); the accepted ones then stored and published together."""
    organisation_id = scope.organisation_id
    submissions = [row for row in rows if isinstance(row, Submission)]
    sessions: dict[SessionRef, TrainingSession | Problem] = {}
    for ref in dict.fromkeys(submission.session for submission in submissions):
        try:
            sessions[ref] = await training_session(connection, organisation_id, ref)
        except Problem as problem:
            sessions[ref] = problem
    trainees = [
        (submission.session, trainee)
        for submission in submissions
        if not isinstance(sessions[submission.session], Problem)
        and (trainee := trainee_of(submission.declaration)) is not None
    ]
    histories = await trainee_histories(connection, organisation_id, trainees)
    judged: list[Judged] = []
    for row in rows:
        if isinstance(row, DeclarationRejected):
            judged.append([FieldError(p.field, p.message) for p in row.problems])
            continue
        session = sessions[row.session]
        if isinstance(session, Problem):
            judged.append(_errors_of(session))
            continue
        trainee = trainee_of(row.declaration)
        key = (row.session, trainee or "")
        history = histories.get(key, TraineeHistory())
        try:
            version = judge(context, scope, row, session, history, now=now)
        except Problem as problem:
            judged.append(_errors_of(problem))
            continue
        if trainee is not None:
            histories[key] = with_versions(history, [version])
        judged.append(version)
    return judged


async def declare_attendance(
    context: DeclarationContext,
    actor: Actor,
    organisation_id: uuid.UUID,
    rows: Sequence[Row],
    request: IdempotentRequest,
    *,
    all_or_nothing: bool = True,
) -> tuple[StoredResponse, bool]:
    scope: DeclarerScope | None = None

    async def authorise(connection: Connection) -> None:
        nonlocal scope
        scope = await declarer_scope(context, connection, actor, organisation_id)

    async def effect(connection: Connection, now: datetime) -> tuple[int, dict[str, Any]]:
        assert scope is not None
        verdicts = await _judge_all(context, connection, scope, rows, now)
        versions = [v for v in verdicts if isinstance(v, DeclarationVersion)]
        refused_whole = all_or_nothing and len(versions) < len(rows)  # nothing to store
        judged = not versions or refused_whole or await store_many(connection, versions)
        results: list[dict[str, Any]] = []
        errors: list[FieldError] = []
        for index, (row, verdict) in enumerate(zip(rows, verdicts, strict=True)):
            if judged:
                result, row_errors = (
                    (_result(verdict), []) if isinstance(verdict, DeclarationVersion)
                    else (None, verdict)
                )  # fmt: skip
            else:  # a duplicate met when storing (a writer outside the locks): row by row
                result, row_errors = await _judge(context, connection, scope, row, now)
            errors += _row_errors(index, row_errors)
            status = "accepted" if result else "rejected"
            results.append({"row": index, "status": status, **(result or {}),
                            **({"errors": [{"field": e.field, "message": e.message}
                                           for e in _row_errors(index, row_errors)]}
                               if row_errors else {})})  # fmt: skip
        if errors and all_or_nothing:
            refused = len({e.field.split("]", 1)[0] for e in errors})
            raise invalid_fields(
                errors, detail=f"{refused} of {len(rows)} rows refused: nothing was declared"
            )
        accepted = sum(r["status"] == "accepted" for r in results)
        body = {"accepted": accepted, "rejected": len(rows) - accepted, "rows": results}
        return (201 if accepted else 422), body

    return await idempotently(context, actor, request, authorise, effect)
