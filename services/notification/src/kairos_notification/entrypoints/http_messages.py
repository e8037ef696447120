"""HTTP API of the messages people write: operators' announcements, RGCs' incident reports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from kairos_notification.domain.notifications import NotificationKind
from kairos_notification.entrypoints.http import Context, CurrentReader
from kairos_notification.service_layer import messages
from kairos_shared.problems import ORGANISATION_BEING_SET_UP

router = APIRouter(tags=["messages"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MaintenanceBody(_Body):
    kind: Literal["maintenance"]
    starts_at: datetime
    ends_at: datetime
    reason: str = Field(min_length=1, max_length=500)


class ChangeBody(_Body):
    kind: Literal["change"]
    title: str = Field(min_length=1, max_length=120)
    message: str = Field(min_length=1, max_length=5000)
    effective_at: datetime | None = None


class IncidentBody(_Body):
    summary: str = Field(min_length=1, max_length=120)
    description: str = Field(min_length=1, max_length=5000)


@router.post("/v1/announcements", status_code=202)
async def announce(
    body: Annotated[MaintenanceBody | ChangeBody, Field(discriminator="kind")],
    context: Context,
    reader: CurrentReader,
) -> dict[str, Any]:
    """Tell every organisation's head and RGC of a maintenance closure or a change (operators)."""
    if isinstance(body, MaintenanceBody):
        values: dict[str, Any] = {"starts_at": body.starts_at, "ends_at": body.ends_at,
                                  "reason": body.reason}  # fmt: skip
        kind = NotificationKind.MAINTENANCE_ANNOUNCEMENT
    else:
        values = {"title": body.title, "message": body.message, "effective_at": body.effective_at}
        kind = NotificationKind.SERVICE_ANNOUNCEMENT
    queued = await messages.announce(context, reader, messages.Announcement(kind, values))
    return {"queued": queued}


@router.post(
    "/v1/organisations/{organisation_id}/incident-reports",
    status_code=202,
    responses=ORGANISATION_BEING_SET_UP,
)
async def report_incident(
    organisation_id: uuid.UUID, body: IncidentBody, context: Context, reader: CurrentReader
) -> dict[str, Any]:
    """The RGC reports an incident to the operators' mailbox (CGU §4.1.3)."""
    report = messages.IncidentReport(body.summary, body.description)
    report_id = await messages.report_incident(context, reader, organisation_id, report)
    return {"incident_report_id": str(report_id)}
