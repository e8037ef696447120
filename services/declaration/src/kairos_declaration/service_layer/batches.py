"""Monthly attendance in batches (K16.6, K19): thousands of statements in one request, each row
judged like a single declaration. All or nothing by default: one bad row refuses the batch,
names the row and its fields, and nothing is stored; `all_or_nothing=False` keeps the good rows
and reports the others."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kairos_declaration.domain.errors import DeclarationRejected
from kairos_declaration.service_layer.access import Actor, DeclarerScope, declarer_scope
from kairos_declaration.service_layer.context import DeclarationContext
from kairos_declaration.service_layer.declaring import Submission, accept, idempotently
from kairos_shared.db import Connection
from kairos_shared.idempotency import IdempotentRequest, StoredResponse
from kairos_shared.problems import FieldError, Problem, invalid_fields

Row = Submission | DeclarationRejected
"""A row as parsed: a submission, or what made it unreadable."""


def _row_errors(index: int, errors: Sequence[FieldError]) -> list[FieldError]:
    return [FieldError(f"rows[{index}].{e.field}", e.message) for e in errors]


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
        if problem.status != 422:  # noqa: PLR2004 - only field errors are a row's own
            raise
        return None, list(problem.errors) or [FieldError("", problem.detail)]
    result = {"declaration_id": str(version.declaration_id), "late": version.late,
              "due_by": version.due_by.isoformat()}  # fmt: skip
    return result, []


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
        results: list[dict[str, Any]] = []
        errors: list[FieldError] = []
        for index, row in enumerate(rows):
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
