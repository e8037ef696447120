"""COADHA — the RGC's habilitations (K11-K13): the list, recording one with the head's signed
authorisation, the once-only hand-over of provisional credentials, ending one."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from kairos_portal.domain import french, labels
from kairos_portal.domain.forms import FormErrors, SummaryItem, field_id
from kairos_portal.domain.web_sessions import WebSession
from kairos_portal.entrypoints.web import (
    call,
    form_of,
    render,
    see_other,
    signed_in,
    text,
    web_of,
)
from kairos_portal.service_layer import web_sessions
from kairos_portal.service_layer.ports import Request as ServiceRequest
from kairos_portal.service_layer.ports import ServiceRefused

router = APIRouter(prefix="/coadha")
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
CHUNK = 64 * 1024


def _organisation(session: WebSession) -> str:
    return session.person.organisation_id or "-"


@router.get("/habilitations")
async def habilitation_list(request: Request) -> HTMLResponse:
    session = await signed_in(request)
    which = request.query_params.get("statut", "live")
    which = which if which in {"live", "ended", "all"} else "live"
    listing = await call(
        request, session, "habilitation",
        ServiceRequest("GET", f"/v1/organisations/{_organisation(session)}/habilitations",
                       params={"status": which}),
    )  # fmt: skip
    return render(
        request, "pages/habilitations.html",
        {"habilitations": listing["habilitations"], "which": which}, session=session,
    )  # fmt: skip


@router.get("/habilitations.csv")
async def habilitation_export(request: Request) -> Response:
    session = await signed_in(request)
    _, answer = await web_sessions.call(
        web_of(request).portal, session, "habilitation",
        ServiceRequest("GET", f"/v1/organisations/{_organisation(session)}/habilitations",
                       params={"status": "all", "format": "csv"}),
    )  # fmt: skip
    return Response(
        answer.text, media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="habilitations.csv"',
                 "Cache-Control": "no-store"},
    )  # fmt: skip


def _new_form(
    request: Request, session: WebSession, errors: FormErrors | None = None,
    values: dict[str, str] | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    return render(
        request, "pages/habilitation_new.html",
        {"errors": errors or FormErrors(), "values": values or {}}, session=session,
        status_code=status,
    )  # fmt: skip


@router.get("/habilitations/nouvelle")
async def new_habilitation_form(request: Request) -> HTMLResponse:
    return _new_form(request, await signed_in(request))


async def _sha256(upload: Any) -> str | None:
    """SHA-256 of the uploaded signed authorisation, read in chunks and not kept (K12)."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    digest, size = hashlib.sha256(), 0
    try:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > MAX_DOCUMENT_BYTES:
                return None
            digest.update(chunk)
    finally:
        await upload.close()
    return digest.hexdigest() if size else None


def _habilitation_body(form: FormData, sha256: str) -> dict[str, Any]:
    return {
        "role": text(form, "role") or "user",
        "person": {"first_name": text(form, "person.first_name"),
                   "last_name": text(form, "person.last_name"),
                   "email": text(form, "person.email")},
        "function": text(form, "function"),
        "authorisation": {"signed_by": text(form, "authorisation.signed_by"),
                          "signed_on": text(form, "authorisation.signed_on") or None,
                          "document_sha256": sha256},
        "employee_attested": text(form, "employee_attested") == "oui",
    }  # fmt: skip


@router.post("/habilitations/nouvelle")
async def record_habilitation(request: Request) -> Response:
    session = await signed_in(request)
    form = await form_of(request, session)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    sha256 = await _sha256(form.get("authorisation.document"))
    if sha256 is None:
        errors = FormErrors(title="Certaines informations sont à corriger")
        message = "Choisissez le document de l'autorisation signée (20 Mo au plus, non vide)."
        errors.by_field["authorisation.document"] = message
        errors.summary.append(
            SummaryItem(f"Autorisation signée : {message}", field_id("authorisation.document"))
        )
        return _new_form(request, session, errors, values, 422)
    try:
        recorded = await call(
            request, session, "habilitation",
            ServiceRequest("POST", f"/v1/organisations/{_organisation(session)}/habilitations",
                           json=_habilitation_body(form, sha256)),
        )  # fmt: skip
    except ServiceRefused as refused:
        problem = refused.problem
        if problem.status not in {400, 409, 422}:
            raise
        mapped = {**labels.HABILITATION, "authorisation.document_sha256": "Autorisation signée"}
        return _new_form(request, session, FormErrors.of(problem, mapped), values, problem.status)
    return see_other(f"/coadha/habilitations/{recorded['habilitation_id']}?info=enregistree")


@router.get("/habilitations/{habilitation_id}")
async def habilitation_record(request: Request, habilitation_id: str) -> HTMLResponse:
    session = await signed_in(request)
    return await _record_page(request, session, habilitation_id)


async def _record_page(
    request: Request, session: WebSession, habilitation_id: str,
    errors: FormErrors | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    record = await call(
        request, session, "habilitation",
        ServiceRequest("GET", f"/v1/habilitations/{_safe(habilitation_id)}"),
    )  # fmt: skip
    info = {
        "enregistree": "L'habilitation est enregistrée.",
        "terminee": "L'habilitation est terminée.",
    }.get(request.query_params.get("info", ""))
    return render(
        request, "pages/habilitation.html",
        {"h": record, "info": info, "errors": errors or FormErrors(),
         "end_reasons": french.END_REASONS},
        session=session, status_code=status,
    )  # fmt: skip


def _safe(identifier: str) -> str:
    """An id as a path segment: only what a UUID is made of."""
    return "".join(c for c in identifier if c.isalnum() or c == "-")[:64] or "-"


@router.post("/habilitations/{habilitation_id}/fin")
async def end_habilitation(request: Request, habilitation_id: str) -> Response:
    session = await signed_in(request)
    form = await form_of(request, session)
    try:
        await call(
            request, session, "habilitation",
            ServiceRequest("POST", f"/v1/habilitations/{_safe(habilitation_id)}/ending",
                           json={"reason": text(form, "reason")}),
        )  # fmt: skip
    except ServiceRefused as refused:
        if refused.problem.status not in {400, 409, 422}:
            raise
        errors = FormErrors.of(refused.problem, labels.ENDING)
        return await _record_page(request, session, habilitation_id, errors, refused.problem.status)
    return see_other(f"/coadha/habilitations/{_safe(habilitation_id)}?info=terminee")


@router.post("/habilitations/{habilitation_id}/identifiants")
async def hand_over_credentials(request: Request, habilitation_id: str) -> Response:
    """The provisional credentials, shown once (the identity service gives them once), in a
    page never cached (``no-store``) and printable."""
    session = await signed_in(request)
    form = await form_of(request, session)
    account_id = _safe(text(form, "account_id"))
    record = await call(
        request, session, "habilitation",
        ServiceRequest("GET", f"/v1/habilitations/{_safe(habilitation_id)}"),
    )  # fmt: skip
    try:
        credentials = await call(
            request, session, "identity",
            ServiceRequest("GET", f"/v1/accounts/{account_id}/provisional-credentials"),
        )  # fmt: skip
    except ServiceRefused as refused:
        if refused.problem.status not in {404, 409, 410, 422}:
            raise
        errors = FormErrors.message(refused.problem.french_title, refused.problem.detail)
        return await _record_page(request, session, habilitation_id, errors, refused.problem.status)
    return render(
        request, "pages/credentials.html", {"h": record, "credentials": credentials},
        session=session, headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )  # fmt: skip
