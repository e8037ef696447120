"""Sign-in, the first login's password choice, password change, sign-out (K5-K9)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kairos_portal.domain import labels
from kairos_portal.domain.forms import FormErrors, SummaryItem, field_id
from kairos_portal.entrypoints.security import SESSION_COOKIE
from kairos_portal.entrypoints.web import (
    form_of,
    pre_session_token,
    problem_page,
    render,
    see_other,
    set_pre_session_cookie,
    set_session_cookie,
    signed_in,
    text,
    web_of,
)
from kairos_portal.service_layer import web_sessions
from kairos_portal.service_layer.ports import ServiceRefused
from kairos_portal.service_layer.web_sessions import SessionEnded

router = APIRouter()
NOTICES = {
    "terminee": "Votre session a pris fin (inactivité ou déconnexion) : reconnectez-vous.",
    "deconnecte": "Vous êtes déconnecté. Vos données de session ont été supprimées.",
    "mot-de-passe": "Votre mot de passe est enregistré.",
}


@router.get("/")
async def home(request: Request) -> Response:
    try:
        await signed_in(request)
    except SessionEnded:
        return see_other("/connexion")
    return see_other("/applications")


def _sign_in_page(
    request: Request, errors: FormErrors | None = None, login_id: str = "", status: int = 200
) -> HTMLResponse:
    token = pre_session_token(request)
    notice = NOTICES.get(request.query_params.get("session", ""))
    response = render(
        request, "pages/sign_in.html",
        {"csrf_token": token, "errors": errors or FormErrors(), "values": {"login_id": login_id},
         "notice": notice},
        status_code=status,
    )  # fmt: skip
    set_pre_session_cookie(response, request, token)
    return response


@router.get("/connexion")
async def sign_in_form(request: Request) -> HTMLResponse:
    return _sign_in_page(request)


@router.post("/connexion")
async def sign_in(request: Request) -> Response:
    form = await form_of(request, None)
    login_id, password = text(form, "login_id"), str(form.get("password") or "")[:1024]
    try:
        cookie, session = await web_sessions.sign_in(web_of(request).portal, login_id, password)
    except ServiceRefused as refused:
        problem = refused.problem
        if problem.type == "outside-access-hours" or problem.is_activation_pending:
            return problem_page(request, problem, None)
        return _sign_in_page(
            request, FormErrors.of(problem, labels.LOGIN), login_id, problem.status
        )
    target = "/mot-de-passe" if session.person.password_change_only else "/applications"
    response = see_other(target)
    set_session_cookie(response, request, cookie)
    return response


@router.get("/mot-de-passe")
async def password_form(request: Request) -> HTMLResponse:
    session = await signed_in(request)
    return render(request, "pages/password.html", session=session)


@router.post("/mot-de-passe")
async def change_password(request: Request) -> Response:
    session = await signed_in(request)
    form = await form_of(request, session)
    current = str(form.get("current_password") or "")[:1024]
    new, confirmation = (str(form.get(n) or "")[:1024] for n in ("new_password", "confirmation"))
    if new != confirmation:
        errors = FormErrors(title="Certaines informations sont à corriger")
        errors.by_field["confirmation"] = "Les deux saisies du nouveau mot de passe diffèrent."
        errors.summary.append(
            SummaryItem(
                "Confirmation : les deux saisies du nouveau mot de passe diffèrent.",
                field_id("confirmation"),
            )
        )
        return render(request, "pages/password.html", {"errors": errors}, session=session,
                      status_code=422)  # fmt: skip
    try:
        cookie, _ = await web_sessions.change_password(
            web_of(request).portal, session, current, new
        )
    except ServiceRefused as refused:
        errors = FormErrors.of(refused.problem, labels.PASSWORD_CHANGE)
        return render(request, "pages/password.html", {"errors": errors}, session=session,
                      status_code=refused.problem.status)  # fmt: skip
    response = see_other("/applications?info=mot-de-passe")
    set_session_cookie(response, request, cookie)
    return response


@router.post("/deconnexion")
async def sign_out(request: Request) -> Response:
    session = await signed_in(request)
    await form_of(request, session)
    await web_sessions.end(web_of(request).portal, session)
    response = see_other("/connexion?session=deconnecte")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
