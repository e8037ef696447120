"""Kairos — monthly attendance (K16.6): a session's grid of trainees for a month, and a CSV
file; the service's refusals shown on the rows (and columns) it names, the accepted rows' due
dates and lateness on theirs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from kairos_portal.domain import attendance, labels
from kairos_portal.domain.forms import FormErrors
from kairos_portal.domain.problems import FieldError, ServiceProblem
from kairos_portal.domain.web_sessions import WebSession
from kairos_portal.entrypoints.pages_kairos import (
    FORM_REFUSALS,
    organisation_path,
    session_entries,
    session_url,
)
from kairos_portal.entrypoints.web import call, form_of, key_of, render, signed_in, text, web_of
from kairos_portal.service_layer.ports import Request as ServiceRequest
from kairos_portal.service_layer.ports import ServiceRefused

router = APIRouter(prefix="/kairos")
MAX_CSV_BYTES = 2 * 1024 * 1024


def _grid_rows(form: FormData | None, trainees: list[str]) -> list[attendance.GridRow]:
    rows = []
    for index, trainee in enumerate(trainees):
        hours = {}
        for column in attendance.HOURS_COLUMNS:
            hours[column] = text(form, f"rows-{index}-{column}") if form is not None else ""
        rows.append(attendance.GridRow(trainee, hours))
    return rows


def _month(value: str, default: str) -> str:
    ok = len(value) == 7 and value[4] == "-" and value.replace("-", "").isdigit()  # noqa: PLR2004
    return value if ok else default


async def _grid_page(
    request: Request, session: WebSession, action: str, number: str, month: str,
    form: FormData | None = None, errors: FormErrors | None = None, status: int = 200,
    accepted: int | None = None, results: dict[int, dict[str, Any]] | None = None,
) -> HTMLResponse:  # fmt: skip
    entries = await session_entries(request, session, action, number)
    trainees = sorted({e["trainee_id"] for e in entries})
    return render(
        request, "pages/attendance.html",
        {"action": action, "number": number, "month": month,
         "rows": _grid_rows(form, trainees), "errors": errors or FormErrors(),
         "accepted": accepted, "results": results or {}, "url": session_url(action, number),
         "columns": {c: labels.ATTENDANCE_COLUMNS[c] for c in attendance.HOURS_COLUMNS}},
        session=session, status_code=status,
    )  # fmt: skip


@router.get("/sessions/{action}/{number}/presences")
async def attendance_grid(request: Request, action: str, number: str) -> HTMLResponse:
    session = await signed_in(request)
    default = attendance.previous_month(web_of(request).portal.clock.now().date())
    month = _month(request.query_params.get("mois", ""), default)
    return await _grid_page(request, session, action, number, month)


def _on_grid(problem: ServiceProblem, positions: list[int]) -> ServiceProblem:
    """The service's ``rows[i]`` (the i-th row sent) as the grid's own row number."""
    moved = []
    for error in problem.errors:
        row = error.row
        if row is not None and row < len(positions):
            rest = error.path.split("]", 1)[1]
            moved.append(FieldError(f"rows[{positions[row]}]{rest}", error.message))
        else:
            moved.append(error)
    return ServiceProblem(
        problem.status,
        problem.type,
        problem.title,
        problem.detail,
        tuple(moved),
        problem.retry_after_seconds,
        problem.extensions,
    )


@router.post("/sessions/{action}/{number}/presences")
async def declare_attendance_grid(request: Request, action: str, number: str) -> Response:
    session = await signed_in(request)
    form = await form_of(request, session)
    default = attendance.previous_month(web_of(request).portal.clock.now().date())
    month = _month(text(form, "month"), default)
    trainees = sorted(
        {e["trainee_id"] for e in await session_entries(request, session, action, number)}
    )
    rows, positions = attendance.batch_rows(_grid_rows(form, trainees), action, number, month)
    if not rows:
        errors = FormErrors.message("Saisissez les heures d'au moins un stagiaire.")
        return await _grid_page(request, session, action, number, month, form, errors, 422)
    try:
        answer = await call(
            request, session, "declaration",
            ServiceRequest("POST", f"{organisation_path(session)}/attendance-statements/batch",
                           json={"rows": rows}, idempotency_key=key_of(form)),
        )  # fmt: skip
    except ServiceRefused as refused:
        if refused.problem.status not in FORM_REFUSALS:
            raise
        errors = FormErrors.of(_on_grid(refused.problem, positions), labels.ATTENDANCE_COLUMNS)
        return await _grid_page(
            request, session, action, number, month, form, errors, refused.problem.status
        )
    return await _grid_page(
        request, session, action, number, month, form,
        accepted=int(answer.get("accepted", 0)), results=_results_on_grid(answer, positions),
    )  # fmt: skip


def _results_on_grid(answer: Any, positions: list[int]) -> dict[int, dict[str, Any]]:
    """Each accepted row's ``due_by`` and ``late``, on its grid row."""
    rows = answer.get("rows", []) if isinstance(answer, dict) else []
    return {
        positions[r["row"]]: r
        for r in rows
        if isinstance(r, dict) and isinstance(r.get("row"), int) and r["row"] < len(positions)
    }


@router.post("/sessions/{action}/{number}/presences/csv")
async def declare_attendance_csv(request: Request, action: str, number: str) -> Response:
    session = await signed_in(request)
    form = await form_of(request, session)
    upload = form.get("fichier")
    content = b""
    if isinstance(upload, UploadFile):
        try:
            content = await upload.read(MAX_CSV_BYTES + 1)
        finally:
            await upload.close()
    if not content or len(content) > MAX_CSV_BYTES:
        errors = FormErrors.message("Choisissez un fichier CSV (2 Mo au plus).")
        return render(request, "pages/attendance_csv.html",
                      {"rows": [], "errors": errors, "url": session_url(action, number)},
                      session=session, status_code=422)  # fmt: skip
    decoded = content.decode("utf-8-sig", errors="replace")
    try:
        answer = await call(
            request, session, "declaration",
            ServiceRequest("POST", f"{organisation_path(session)}/attendance-statements/batch",
                           content=decoded.encode(), content_type="text/csv",
                           idempotency_key=key_of(form)),
        )  # fmt: skip
    except ServiceRefused as refused:
        if refused.problem.status not in FORM_REFUSALS:
            raise
        return render(
            request, "pages/attendance_csv.html",
            {"rows": attendance.csv_rows(decoded), "url": session_url(action, number),
             "columns": labels.ATTENDANCE_COLUMNS,
             "errors": FormErrors.of(refused.problem, labels.ATTENDANCE_COLUMNS)},
            session=session, status_code=refused.problem.status,
        )  # fmt: skip
    count = int(answer.get("accepted", 0)) if isinstance(answer, dict) else 0
    return render(request, "pages/attendance_csv.html",
                  {"rows": [], "accepted": count, "url": session_url(action, number)},
                  session=session)  # fmt: skip
