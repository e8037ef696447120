"""Kairos — declarations (K16-K20): training sessions, entries, a trainee's page with every
version, monthly attendance as a grid and as a CSV file, exits. Each submission carries the
Idempotency-Key made when its form was shown; the service's refusals are shown on the fields
(and grid rows) it names."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from kairos_portal.domain import attendance, french, labels
from kairos_portal.domain.forms import FormErrors
from kairos_portal.domain.problems import FieldError
from kairos_portal.domain.web_sessions import WebSession
from kairos_portal.entrypoints.web import (
    call,
    form_of,
    key_of,
    render,
    see_other,
    signed_in,
    text,
    web_of,
)
from kairos_portal.service_layer.ports import Request as ServiceRequest
from kairos_portal.service_layer.ports import ServiceRefused

router = APIRouter(prefix="/kairos")
FORM_REFUSALS = {400, 403, 409, 422}


def organisation_path(session: WebSession) -> str:
    return f"/v1/organisations/{session.person.organisation_id or '-'}"


def session_url(action: str, number: str) -> str:
    return f"/kairos/sessions/{quote(action, safe='')}/{quote(number, safe='')}"


async def _declaration(request: Request, session: WebSession, declaration_id: str) -> Any:
    if not declaration_id:
        return None
    safe = "".join(c for c in declaration_id if c.isalnum() or c == "-")[:64]
    found = await call(request, session, "declaration",
                       ServiceRequest("GET", f"/v1/declarations/{safe}"))  # fmt: skip
    return found["versions"][-1] if found.get("versions") else None


# ---- training sessions -------------------------------------------------------------------------


async def _sessions(request: Request, session: WebSession) -> list[dict[str, Any]]:
    found = await call(request, session, "declaration",
                       ServiceRequest("GET", f"{organisation_path(session)}/sessions",
                                      params={"limit": "200"}))  # fmt: skip
    sessions: list[dict[str, Any]] = found["sessions"]
    return sessions


async def _sessions_page(
    request: Request, session: WebSession, errors: FormErrors | None = None,
    values: dict[str, str] | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    return render(
        request, "pages/kairos.html",
        {"sessions": await _sessions(request, session), "errors": errors or FormErrors(),
         "values": values or {}, "session_url": session_url},
        session=session, status_code=status,
    )  # fmt: skip


@router.get("")
async def kairos_home(request: Request) -> HTMLResponse:
    return await _sessions_page(request, await signed_in(request))


@router.post("/sessions")
async def register_session(request: Request) -> Response:
    session = await signed_in(request)
    form = await form_of(request, session)
    body = {name: text(form, name) for name in labels.SESSION}
    try:
        await call(
            request, session, "declaration",
            ServiceRequest("POST", f"{organisation_path(session)}/sessions", json=body,
                           idempotency_key=key_of(form)),
        )  # fmt: skip
    except ServiceRefused as refused:
        if refused.problem.status not in FORM_REFUSALS:
            raise
        errors = FormErrors.of(refused.problem, labels.SESSION)
        return await _sessions_page(request, session, errors, body, refused.problem.status)
    return see_other(session_url(body["action_number"], body["session_number"]))


# ---- one session: its trainees, entries ---------------------------------------------------------


ENTRIES_PAGE = 100
"""The declaration service's largest page (its ``page_size_max``)."""
MAX_ENTRIES = 5000
"""A session's entries the grid shows at most (as many rows as a batch takes)."""


async def session_entries(
    request: Request, session: WebSession, action: str, number: str
) -> list[Any]:
    """Every entry of the session, following the service's cursor page after page."""
    entries: list[Any] = []
    params = {"kind": "entry", "action_number": action, "session_number": number,
              "limit": str(ENTRIES_PAGE)}  # fmt: skip
    while len(entries) < MAX_ENTRIES:
        found = await call(
            request, session, "declaration",
            ServiceRequest("GET", f"{organisation_path(session)}/declarations", params=params),
        )  # fmt: skip
        entries.extend(found["declarations"])
        if not found.get("next_cursor"):
            break
        params = {**params, "cursor": str(found["next_cursor"])}
    return entries[:MAX_ENTRIES]


async def _session_page(
    request: Request, session: WebSession, action: str, number: str,
    errors: FormErrors | None = None, values: dict[str, str] | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    sessions = await _sessions(request, session)
    training = next((s for s in sessions if s["action_number"] == action
                     and s["session_number"] == number), None)  # fmt: skip
    declared = await _declaration(request, session, request.query_params.get("declaree", ""))
    return render(
        request, "pages/session.html",
        {"training": training, "action": action, "number": number,
         "entries": await session_entries(request, session, action, number),
         "declared": declared, "errors": errors or FormErrors(), "values": values or {},
         "month": attendance.previous_month(web_of(request).portal.clock.now().date()),
         "url": session_url(action, number)},
        session=session, status_code=status,
    )  # fmt: skip


@router.get("/sessions/{action}/{number}")
async def session_page(request: Request, action: str, number: str) -> HTMLResponse:
    return await _session_page(request, await signed_in(request), action, number)


async def _declare(
    request: Request, session: WebSession, path: str, body: dict[str, Any], form: FormData
) -> dict[str, Any]:
    answer: dict[str, Any] = await call(
        request, session, "declaration",
        ServiceRequest("POST", f"{organisation_path(session)}/{path}", json=body,
                       idempotency_key=key_of(form)),
    )  # fmt: skip
    return answer


_FIELDS_OF = {"entries": labels.ENTRY, "interruptions": labels.INTERRUPTION}


async def _declare_on_session(
    request: Request, session: WebSession, where: tuple[str, str], path: str,
    body: dict[str, Any], form: FormData,
) -> Response:  # fmt: skip
    """Declare from the session's page: back to it with the new declaration, or with the
    service's refusal on the form's fields."""
    action, number = where
    try:
        declared = await _declare(request, session, path, body, form)
    except ServiceRefused as refused:
        if refused.problem.status not in FORM_REFUSALS:
            raise
        errors = FormErrors.of(refused.problem, _FIELDS_OF[path])
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        return await _session_page(
            request, session, action, number, errors, values, refused.problem.status
        )
    return see_other(f"{session_url(action, number)}?declaree={declared['declaration_id']}")


@router.post("/sessions/{action}/{number}/entrees")
async def declare_entry(request: Request, action: str, number: str) -> Response:
    session = await signed_in(request)
    form = await form_of(request, session)
    body: dict[str, Any] = {
        "session": {"action_number": action, "session_number": number},
        "trainee_id": text(form, "trainee_id"), "entered_on": text(form, "entered_on"),
    }  # fmt: skip
    if text(form, "funded_by"):
        body["funded_by"] = text(form, "funded_by")
    return await _declare_on_session(request, session, (action, number), "entries", body, form)


@router.post("/sessions/{action}/{number}/interruptions")
async def declare_interruption(request: Request, action: str, number: str) -> Response:
    """An interruption of the whole session (no trainee): its dates and reason."""
    session = await signed_in(request)
    form = await form_of(request, session)
    body: dict[str, Any] = {
        "session": {"action_number": action, "session_number": number},
        **{name: text(form, name) for name in labels.INTERRUPTION},
    }
    where = (action, number)
    return await _declare_on_session(request, session, where, "interruptions", body, form)


# ---- a trainee: every declaration and version; the exit ------------------------------------------


async def _trainee_page(
    request: Request, session: WebSession, trainee: str, action: str, number: str,
    errors: FormErrors | None = None, values: dict[str, str] | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    found = await call(
        request, session, "declaration",
        ServiceRequest("GET", f"{organisation_path(session)}/declarations",
                       params={"trainee_id": trainee, "action_number": action,
                               "session_number": number, "include_cancelled": "true",
                               "limit": "100"}),
    )  # fmt: skip
    histories = []
    for declaration in found["declarations"]:
        versions = await call(
            request, session, "declaration",
            ServiceRequest("GET", f"/v1/declarations/{declaration['declaration_id']}"),
        )  # fmt: skip
        histories.append(versions["versions"])
    declared = await _declaration(request, session, request.query_params.get("declaree", ""))
    return render(
        request, "pages/trainee.html",
        {"trainee": trainee, "action": action, "number": number, "histories": histories,
         "declared": declared, "errors": errors or FormErrors(), "values": values or {},
         "url": session_url(action, number), "exit_kinds": french.EXIT_KINDS,
         "exit_reasons": french.EXIT_REASONS},
        session=session, status_code=status,
    )  # fmt: skip


@router.get("/sessions/{action}/{number}/stagiaires/{trainee}")
async def trainee_page(request: Request, action: str, number: str, trainee: str) -> HTMLResponse:
    return await _trainee_page(request, await signed_in(request), trainee, action, number)


@router.post("/sessions/{action}/{number}/stagiaires/{trainee}/sortie")
async def declare_exit(request: Request, action: str, number: str, trainee: str) -> Response:
    session = await signed_in(request)
    form = await form_of(request, session)
    body = {
        "session": {"action_number": action, "session_number": number}, "trainee_id": trainee,
        "exited_on": text(form, "exited_on"), "exit_kind": text(form, "exit_kind"),
        "reason": text(form, "reason"),
    }  # fmt: skip
    try:
        declared = await _declare(request, session, "exits", body, form)
    except ServiceRefused as refused:
        if refused.problem.status not in FORM_REFUSALS:
            raise
        errors = FormErrors.of(refused.problem, labels.EXIT)
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        return await _trainee_page(
            request, session, trainee, action, number, errors, values, refused.problem.status
        )
    page = f"{session_url(action, number)}/stagiaires/{quote(trainee, safe='')}"
    return see_other(f"{page}?declaree={declared['declaration_id']}")


# ---- the organisation's declarations: filters and pages ------------------------------------------

PAGE_SIZE = "50"


@router.get("/declarations")
async def declarations(request: Request) -> HTMLResponse:
    """The organisation's current declarations, oldest first, a page at a time (the service's
    cursor), filtered by kind and trainee."""
    session = await signed_in(request)
    kind = request.query_params.get("type", "")
    trainee = request.query_params.get("stagiaire", "").strip()[:20]
    cursor = request.query_params.get("curseur", "")[:200]
    params = {"limit": PAGE_SIZE}
    params |= {"kind": kind} if kind in french.KINDS else {}
    params |= {"trainee_id": trainee} if trainee else {}
    params |= {"cursor": cursor} if cursor else {}
    found: dict[str, Any] = {"declarations": [], "next_cursor": None}
    errors = FormErrors()
    status = 200
    try:
        found = await call(
            request, session, "declaration",
            ServiceRequest("GET", f"{organisation_path(session)}/declarations", params=params),
        )  # fmt: skip
    except ServiceRefused as refused:
        if refused.problem.status != 422:  # noqa: PLR2004
            raise
        problem = refused.problem
        on_filter = tuple(  # the service's trainee_id is the filter form's « stagiaire »
            FieldError("stagiaire" if e.path == "trainee_id" else e.path, e.message)
            for e in problem.errors
        )
        errors = FormErrors.of(
            replace(problem, errors=on_filter), {"stagiaire": "Identifiant du stagiaire"}
        )
        status = 422
    return render(
        request, "pages/declarations.html",
        {"declarations": found["declarations"], "next_cursor": found.get("next_cursor"),
         "kind": kind, "trainee": trainee, "errors": errors, "kinds": french.KINDS,
         "session_url": session_url},
        session=session, status_code=status,
    )  # fmt: skip
