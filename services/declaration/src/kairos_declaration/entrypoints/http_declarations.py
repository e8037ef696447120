"""HTTP API of declarations (K16-K22): one POST per kind, corrections and cancellations,
monthly attendance in batches (JSON or CSV), queries, lateness. Every POST carries an
`Idempotency-Key`: the same key and body get the same answer, and nothing twice."""

# No `from __future__ import annotations`: the per-kind routes are built in a loop, and FastAPI
# reads each endpoint's body type from its evaluated annotations.

import csv
import io
import json
import uuid
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from kairos_declaration.adapters.declarations import Criteria
from kairos_declaration.domain.errors import DeclarationRejected
from kairos_declaration.domain.identifiers import parse_france_travail_id
from kairos_declaration.entrypoints import bodies
from kairos_declaration.entrypoints.auth import Context, CurrentActor
from kairos_declaration.entrypoints.translate import submission_of, validated
from kairos_declaration.service_layer import amending, batches, reading
from kairos_declaration.service_layer.declaring import declare, rejected
from kairos_shared.idempotency import IdempotentRequest, StoredResponse, idempotent_request
from kairos_shared.idempotency import replay_response as replayed_response
from kairos_shared.problems import ORGANISATION_BEING_SET_UP, FieldError, invalid_fields

router = APIRouter(tags=["declarations"])
Idempotent = Annotated[IdempotentRequest, Depends(idempotent_request)]
KIND_PATHS: dict[str, type[bodies.KindBodyBase]] = {
    "interruptions": bodies.InterruptionBody,
    "correspondents": bodies.CorrespondentBody,
    "information-meetings": bodies.InformationMeetingsBody,
    "information-meeting-results": bodies.InformationMeetingResultBody,
    "entries": bodies.EntryBody,
    "attendance-statements": bodies.AttendanceBody,
    "exits": bodies.ExitBody,
}
BODY_OF_KIND: dict[str, type[bodies.KindBodyBase]] = {
    "interruption": bodies.InterruptionBody,
    "correspondent": bodies.CorrespondentBody,
    "information_meetings": bodies.InformationMeetingsBody,
    "information_meeting_result": bodies.InformationMeetingResultBody,
    "entry": bodies.EntryBody,
    "attendance": bodies.AttendanceBody,
    "exit": bodies.ExitBody,
}


def respond(answer: tuple[StoredResponse, bool]) -> Response:
    stored, replay = answer
    if replay:
        return replayed_response(stored)
    return Response(stored.body, status_code=stored.status_code, media_type=stored.media_type)


def _kind_endpoint(
    body_type: type[bodies.KindBodyBase],
) -> Callable[..., Coroutine[Any, Any, Response]]:
    async def endpoint(
        organisation_id: uuid.UUID,
        body: body_type,  # type: ignore[valid-type] # one concrete body per route
        context: Context,
        actor: CurrentActor,
        request: Idempotent,
    ) -> Response:
        try:
            submission = submission_of(body)
        except DeclarationRejected as error:
            raise rejected(error) from None
        return respond(await declare(context, actor, organisation_id, submission, request))

    return endpoint


for _path, _body in KIND_PATHS.items():
    router.add_api_route(
        f"/v1/organisations/{{organisation_id}}/{_path}",
        _kind_endpoint(_body),
        methods=["POST"],
        status_code=201,
        summary=f"Declare: {_path.replace('-', ' ')}",
        responses={
            201: {"description": "accepted, published to kairos.declaration.v1"},
            **ORGANISATION_BEING_SET_UP,
        },
    )


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise invalid_fields([FieldError("body", "not JSON")]) from None


@router.post("/v1/declarations/{declaration_id}/corrections", status_code=201)
async def correct(
    declaration_id: uuid.UUID, request: Request, context: Context, actor: CurrentActor,
    idempotent: Idempotent,
) -> Response:  # fmt: skip
    """The declaration restated whole (the body of its kind) with a `correction_reason`."""
    data = await _json_body(request)
    kind = await reading.kind_of(context, actor, declaration_id)
    reason = data.pop("correction_reason", None) if isinstance(data, dict) else None
    try:
        submission = submission_of(validated(BODY_OF_KIND[kind], data))
    except DeclarationRejected as error:
        raise rejected(error, prefix="body.") from None
    correction = amending.Correction(submission, reason if isinstance(reason, str) else "")
    return respond(await amending.correct(context, actor, declaration_id, correction, idempotent))


@router.post("/v1/declarations/{declaration_id}/cancellation", status_code=201)
async def cancel(
    declaration_id: uuid.UUID, body: bodies.CancellationBody, context: Context,
    actor: CurrentActor, idempotent: Idempotent,
) -> Response:  # fmt: skip
    return respond(await amending.cancel(context, actor, declaration_id, body.reason, idempotent))


def _rows_of_csv(text: str) -> list[dict[str, Any]]:
    rows = []
    for record in csv.DictReader(io.StringIO(text)):
        row: dict[str, Any] = {k: v for k, v in record.items() if k and v not in (None, "")}
        row["session"] = {
            "action_number": row.pop("action_number", ""),
            "session_number": row.pop("session_number", ""),
        }
        rows.append(row)
    return rows


async def _batch_rows(request: Request, most: int) -> list[Any]:
    media = request.headers.get("content-type", "").split(";")[0].strip()
    if media == "text/csv":
        rows: Any = _rows_of_csv((await request.body()).decode("utf-8-sig"))
    else:
        data = await _json_body(request)
        rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows:
        raise invalid_fields([FieldError("rows", "a non-empty list of attendance statements")])
    if len(rows) > most:
        raise invalid_fields([FieldError("rows", f"at most {most} rows per batch")])
    return rows


def _row(data: Any) -> batches.Row:
    try:
        return submission_of(validated(bodies.AttendanceBody, data))
    except DeclarationRejected as error:
        return error


@router.post(
    "/v1/organisations/{organisation_id}/attendance-statements/batch",
    status_code=201,
    responses=ORGANISATION_BEING_SET_UP,
    openapi_extra={"requestBody": {"content": {
        "application/json": {"schema": bodies.AttendanceBatchBody.model_json_schema()},
        "text/csv": {"schema": {"type": "string", "description": (
            "header: trainee_id,action_number,session_number,month,attended_hours,"
            "justified_absence_hours,unjustified_absence_hours")}},
    }}},
)  # fmt: skip
async def declare_attendance_batch(
    organisation_id: uuid.UUID, request: Request, context: Context, actor: CurrentActor,
    idempotent: Idempotent, all_or_nothing: bool = True,
) -> Response:  # fmt: skip
    """Monthly attendance of many trainees at once; one bad row refuses the whole batch and
    is named (`rows[i].field`) unless `all_or_nothing=false`."""
    rows = [_row(row) for row in await _batch_rows(request, context.batch_rows_max)]
    answer = await batches.declare_attendance(
        context, actor, organisation_id, rows, idempotent, all_or_nothing=all_or_nothing
    )
    return respond(answer)


Kind = Literal[
    "interruption", "correspondent", "information_meetings", "information_meeting_result",
    "entry", "attendance", "exit",
]  # fmt: skip


@router.get(
    "/v1/organisations/{organisation_id}/declarations",
    responses=ORGANISATION_BEING_SET_UP,
)
async def search(
    organisation_id: uuid.UUID, context: Context, actor: CurrentActor,
    kind: Kind | None = None, trainee_id: str | None = None, action_number: str | None = None,
    session_number: str | None = None, declared_from: datetime | None = None,
    declared_before: datetime | None = None, include_cancelled: bool = False,
    cursor: str | None = None, limit: Annotated[int, Query(ge=1)] = 50,
) -> dict[str, Any]:  # fmt: skip
    """The organisation's current declarations, oldest first, a page at a time (K22)."""
    try:  # the same reading of an identifier as when declaring: a bad one is a 422, not []
        trainee = None if trainee_id is None else parse_france_travail_id(trainee_id)
    except DeclarationRejected as error:
        raise rejected(error) from None
    criteria = Criteria(
        organisation_id, kind, trainee,
        action_number, session_number, declared_from, declared_before, include_cancelled,
    )  # fmt: skip
    page = await reading.search(context, actor, criteria, cursor, limit)
    return {"declarations": page.items, "next_cursor": page.next_cursor}


@router.get("/v1/declarations/{declaration_id}")
async def declaration_history(
    declaration_id: uuid.UUID, context: Context, actor: CurrentActor
) -> dict[str, Any]:
    """Every version of the declaration, oldest first (K20)."""
    versions = await reading.history(context, actor, declaration_id)
    return {"declaration_id": str(declaration_id), "versions": versions}


@router.get(
    "/v1/organisations/{organisation_id}/lateness",
    responses=ORGANISATION_BEING_SET_UP,
)
async def lateness(
    organisation_id: uuid.UUID, context: Context, actor: CurrentActor,
    since: date, until: date,
) -> dict[str, Any]:  # fmt: skip
    """Per kind, the declarations first made from `since` to `until` (excluded), days of the
    organisation's zone, and how many of them were late (K18)."""
    lines = await reading.lateness(context, actor, organisation_id, (since, until))
    return {"organisation_id": str(organisation_id), "since": since, "until": until,
            "kinds": [line.__dict__ for line in lines]}  # fmt: skip
