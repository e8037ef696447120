"""« Mes applications »: what the person may open and the organisation's access status."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kairos_portal.entrypoints.pages_sign_in import NOTICES
from kairos_portal.entrypoints.security import PRE_SESSION_COOKIE, SESSION_COOKIE
from kairos_portal.entrypoints.web import call, render, see_other, signed_in, web_of
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


@router.get("/cookies")
async def cookies(request: Request) -> HTMLResponse:
    """The cookie notice (CGU §6, SPEC K25): only strictly necessary cookies, no consent wall."""
    idle = web_of(request).portal.idle_timeout
    return render(
        request, "pages/cookies.html",
        {"session_cookie": SESSION_COOKIE, "form_cookie": PRE_SESSION_COOKIE,
         "idle_minutes": int(idle.total_seconds() // 60)},
    )  # fmt: skip
