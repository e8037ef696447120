"""« Mes applications »: what the person may open and the organisation's access status."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kairos_portal.entrypoints.pages_sign_in import NOTICES
from kairos_portal.entrypoints.web import call, render, see_other, signed_in
from kairos_portal.service_layer.ports import Request as ServiceRequest

router = APIRouter()


@router.get("/applications")
async def applications(request: Request) -> Response:
    session = await signed_in(request)
    person = session.person
    if person.password_change_only:
        return see_other("/mot-de-passe")
    organisation = None
    if person.organisation_id:
        organisation = await call(
            request, session, "identity",
            ServiceRequest("GET", f"/v1/organisations/{person.organisation_id}"),
        )  # fmt: skip
    info = NOTICES.get(request.query_params.get("info", ""))
    page: HTMLResponse = render(
        request, "pages/applications.html", {"organisation": organisation, "info": info},
        session=session,
    )  # fmt: skip
    return page
