"""HTTP API of the OF's training sessions (K16)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from kairos_declaration.entrypoints import bodies
from kairos_declaration.entrypoints.auth import Context, CurrentActor
from kairos_declaration.entrypoints.http_declarations import respond
from kairos_declaration.service_layer import training_sessions
from kairos_shared.idempotency import IdempotentRequest, idempotent_request
from kairos_shared.problems import ORGANISATION_BEING_SET_UP

router = APIRouter(tags=["sessions"])


@router.post(
    "/v1/organisations/{organisation_id}/sessions",
    status_code=201,
    responses=ORGANISATION_BEING_SET_UP,
)
async def register_session(
    organisation_id: uuid.UUID, body: bodies.SessionBody, context: Context, actor: CurrentActor,
    request: Annotated[IdempotentRequest, Depends(idempotent_request)],
) -> Response:  # fmt: skip
    """Register a session (Carif-Oref numbers, dates, weekly hours), or update it."""
    fields = (body.action_number, body.session_number, body.starts_on, body.ends_on,
              body.weekly_hours)  # fmt: skip
    answer = await training_sessions.register(context, actor, organisation_id, fields, request)
    return respond(answer)


@router.get(
    "/v1/organisations/{organisation_id}/sessions",
    responses=ORGANISATION_BEING_SET_UP,
)
async def list_sessions(
    organisation_id: uuid.UUID, context: Context, actor: CurrentActor,
    after_action: str | None = None, after_session: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> dict[str, Any]:  # fmt: skip
    after = None if after_action is None else (after_action, after_session or "")
    found = await training_sessions.list_sessions(context, actor, organisation_id, after, limit)
    return {"sessions": found}
