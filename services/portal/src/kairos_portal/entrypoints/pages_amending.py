"""Kairos — one declaration: every version (K20), its correction (the declaration restated with
a reason) and its cancellation (with a reason); and the organisation's lateness report (K18).
The service decides whether a correction or a cancellation is allowed and says why not; the
page shows it on the field it names."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kairos_portal.domain import attendance, french, labels
from kairos_portal.domain.forms import FormErrors
from kairos_portal.domain.problems import FieldError
from kairos_portal.domain.web_sessions import WebSession
from kairos_portal.entrypoints.pages_kairos import FORM_REFUSALS, organisation_path, session_url
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
CHOICES = {"exit_kind": french.EXIT_KINDS, "result": french.MEETING_RESULTS}
CHOICES_OF_KIND = {("exit", "reason"): french.EXIT_REASONS}
HOURS = {"attended_hours", "justified_absence_hours", "unjustified_absence_hours"}
_KEPT = ("session", "trainee_id", "month")


def _safe_id(declaration_id: str) -> str:
    return "".join(c for c in declaration_id if c.isalnum() or c == "-")[:64]


def declaration_url(declaration_id: str) -> str:
    return f"/kairos/declarations/{_safe_id(declaration_id)}"


def correction_of(last: dict[str, Any], form: dict[str, str], reason: str) -> dict[str, Any]:
    """The correction's body: the declaration restated whole — its session, trainee and month
    as they were, the form's values for the fields it shows — with the reason."""
    body = {name: last[name] for name in _KEPT if last.get(name) is not None}
    for name in labels.CORRECTABLE.get(str(last.get("kind")), {}):
        value = form.get(name, "")
        if name in HOURS:
            body[name] = attendance.hours(value)
        elif value or name != "funded_by":
            body[name] = value
    body["correction_reason"] = reason
    return body


def _shown(value: object) -> str:
    """A field of the last version as its form shows it (0 is a value, None is not)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)


async def _versions(request: Request, session: WebSession, declaration_id: str) -> list[Any]:
    path = f"/v1/declarations/{_safe_id(declaration_id)}"
    found = await call(request, session, "declaration", ServiceRequest("GET", path))
    versions: list[Any] = found["versions"]
    return versions


async def _page(
    request: Request, session: WebSession, declaration_id: str, *,
    correction: FormErrors | None = None, cancellation: FormErrors | None = None,
    values: dict[str, str] | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    versions = await _versions(request, session, declaration_id)
    last = versions[-1]
    fields = labels.CORRECTABLE.get(last["kind"], {})
    shown = values if values is not None else {n: _shown(last.get(n)) for n in fields}
    done = request.query_params.get("fait", "")
    return render(
        request, "pages/declaration.html",
        {"versions": versions, "last": last, "fields": fields, "values": shown,
         "choices": {n: CHOICES_OF_KIND.get((last["kind"], n), CHOICES.get(n)) for n in fields},
         "hours": HOURS, "correction": correction or FormErrors(),
         "errors": correction or cancellation or FormErrors(), "cancel_key": str(uuid.uuid4()),
         "cancellation": cancellation or FormErrors(), "url": declaration_url(declaration_id),
         "done": done if done in ("correction", "annulation") else "",
         "session_url": session_url(last["session"]["action_number"],
                                    last["session"]["session_number"])},
        session=session, status_code=status,
    )  # fmt: skip


@router.get("/declarations/{declaration_id}")
async def declaration_page(request: Request, declaration_id: str) -> HTMLResponse:
    return await _page(request, await signed_in(request), declaration_id)


@router.post("/declarations/{declaration_id}/correction")
async def correct(request: Request, declaration_id: str) -> Response:
    session = await signed_in(request)
    form = await form_of(request, session)
    values = {k: text(form, k) for k in form if isinstance(form.get(k), str)}
    last = (await _versions(request, session, declaration_id))[-1]
    body = correction_of(last, values, text(form, "correction_reason"))
    try:
        await call(request, session, "declaration",
                   ServiceRequest("POST", f"/v1/declarations/{_safe_id(declaration_id)}"
                                  "/corrections", json=body,
                                  idempotency_key=key_of(form)))  # fmt: skip
    except ServiceRefused as refused:
        if refused.problem.status not in FORM_REFUSALS:
            raise
        fields = {**labels.CORRECTABLE.get(last["kind"], {}), **labels.CORRECTION_REASON}
        errors = FormErrors.of(refused.problem, fields)
        return await _page(request, session, declaration_id, correction=errors, values=values,
                           status=refused.problem.status)  # fmt: skip
    return see_other(f"{declaration_url(declaration_id)}?fait=correction")


@router.post("/declarations/{declaration_id}/annulation")
async def cancel(request: Request, declaration_id: str) -> Response:
    session = await signed_in(request)
    form = await form_of(request, session)
    try:
        await call(request, session, "declaration",
                   ServiceRequest("POST", f"/v1/declarations/{_safe_id(declaration_id)}"
                                  "/cancellation", json={"reason": text(form, "cancel_reason")},
                                  idempotency_key=key_of(form)))  # fmt: skip
    except ServiceRefused as refused:
        if refused.problem.status not in FORM_REFUSALS:
            raise
        problem = refused.problem
        # The cancellation form's reason is « cancel_reason » on the page (an exit's or an
        # interruption's correction form has its own « reason »).
        moved = tuple(FieldError("cancel_reason" if e.path == "reason" else e.path, e.message)
                      for e in problem.errors)  # fmt: skip
        errors = FormErrors.of(
            replace(problem, errors=moved), {"cancel_reason": labels.CANCELLATION["reason"]}
        )
        return await _page(request, session, declaration_id, cancellation=errors,
                           status=problem.status)  # fmt: skip
    return see_other(f"{declaration_url(declaration_id)}?fait=annulation")


# ---- the lateness report ------------------------------------------------------------------------


def _date(value: str, default: date) -> str:
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return value[:10] if value else default.isoformat()


@router.get("/retards")
async def lateness(request: Request) -> HTMLResponse:
    """Per kind, the declarations first made in the period and how many were late (K18); the
    period defaults to this year up to today included."""
    session = await signed_in(request)
    today = web_of(request).portal.clock.now().date()
    since = _date(request.query_params.get("since", ""), today.replace(month=1, day=1))
    until = _date(request.query_params.get("until", ""), today + timedelta(days=1))
    found: dict[str, Any] = {"kinds": []}
    errors = FormErrors()
    status = 200
    try:
        found = await call(request, session, "declaration",
                           ServiceRequest("GET", f"{organisation_path(session)}/lateness",
                                          params={"since": since, "until": until}))  # fmt: skip
    except ServiceRefused as refused:
        if refused.problem.status != 422:  # noqa: PLR2004
            raise
        problem = refused.problem
        on_form = tuple(FieldError(e.path.removeprefix("query."), e.message)
                        for e in problem.errors)  # fmt: skip
        errors = FormErrors.of(replace(problem, errors=on_form), labels.LATENESS)
        status = 422
    return render(
        request, "pages/lateness.html",
        {"kinds": found["kinds"], "since": since, "until": until, "errors": errors},
        session=session, status_code=status,
    )  # fmt: skip
