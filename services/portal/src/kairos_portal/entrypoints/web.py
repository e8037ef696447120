"""What every page shares: the templates of the chosen theme, the signed-in person's session,
the CSRF check of forms, and the pages shown when a service refuses or the session ended."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from kairos_portal.domain import french
from kairos_portal.domain.forms import FormErrors, cell_id, field_id
from kairos_portal.domain.problems import ServiceProblem
from kairos_portal.domain.web_sessions import WebSession
from kairos_portal.entrypoints.security import (
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    new_token,
    tokens_match,
)
from kairos_portal.service_layer import web_sessions
from kairos_portal.service_layer.ports import Request as ServiceRequest
from kairos_portal.service_layer.ports import Service, ServiceRefused
from kairos_portal.service_layer.web_sessions import Portal, SessionEnded

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MAX_FORM_FIELDS = 4000
MAX_FORM_FILES = 1
MAX_FIELD_TEXT = 1000


class CsrfRefused(Exception):  # noqa: N818 - a refusal shown as a page
    """A form without the right CSRF token: nothing is sent to any service."""


@dataclass(frozen=True)
class Web:
    """The portal's page-side settings, kept in ``app.state.web``."""

    portal: Portal
    templates: Jinja2Templates
    theme: str
    secure_cookies: bool


def make_templates(theme: str, password_min_length: int = 15) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.globals.update(
        ui_theme=f"themes/{theme}.html",
        theme=theme,
        field_id=field_id,
        cell_id=cell_id,
        french=french,
        password_min_length=password_min_length,
    )
    env.filters["date_fr"] = french.iso_date_text
    env.filters["month_fr"] = french.month_name
    return templates


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    session: WebSession | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    web = web_of(request)
    values: dict[str, Any] = {
        "session": session,
        "person": None if session is None else session.person,
        "csrf_token": None if session is None else session.csrf_token,
        "errors": FormErrors(),
        "values": {},
        "idempotency_key": str(uuid.uuid4()),
        **(context or {}),
    }
    return web.templates.TemplateResponse(
        request, template, values, status_code=status_code, headers=headers
    )


async def signed_in(request: Request) -> WebSession:
    """The live web session, or :class:`SessionEnded` (the sign-in page follows)."""
    session = await web_sessions.current(
        web_of(request).portal, request.cookies.get(SESSION_COOKIE)
    )
    request.state.web_session = session
    return session


def session_of(request: Request) -> WebSession | None:
    """The session :func:`signed_in` found for this request, if any (for error pages)."""
    found: WebSession | None = getattr(request.state, "web_session", None)
    return found


async def form_of(request: Request, session: WebSession | None) -> FormData:
    """The submitted form, once its CSRF token matched (the session's, or the pre-session
    cookie's for the sign-in form)."""
    form = await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS)
    expected = (
        session.csrf_token if session is not None else request.cookies.get(PRE_SESSION_COOKIE)
    )
    given = form.get("csrf_token")
    if not tokens_match(expected, given if isinstance(given, str) else None):
        raise CsrfRefused
    return form


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip()[:MAX_FIELD_TEXT] if isinstance(value, str) else ""


def key_of(form: FormData) -> str:
    """The submission's Idempotency-Key: a hidden field made when the form was shown, so a
    double submit is answered once by the service."""
    value = text(form, "idempotency_key")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return str(uuid.uuid4())


async def call(
    request: Request, session: WebSession, service: Service, service_request: ServiceRequest
) -> Any:
    _, answer = await web_sessions.call(web_of(request).portal, session, service, service_request)
    return answer.body


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def set_session_cookie(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, value, httponly=True, samesite="lax",
        secure=web_of(request).secure_cookies, path="/",
    )  # fmt: skip


def pre_session_token(request: Request) -> str:
    return request.cookies.get(PRE_SESSION_COOKIE) or new_token()


def set_pre_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        PRE_SESSION_COOKIE, token, httponly=True, samesite="strict",
        secure=web_of(request).secure_cookies, path="/", max_age=3600,
    )  # fmt: skip


def problem_page(
    request: Request, problem: ServiceProblem, session: WebSession | None
) -> HTMLResponse:
    """A refusal no form shows: the activation in progress (503 + Retry-After, with a retry),
    the closed hours, or the service's reason in French."""
    if problem.is_activation_pending:
        seconds = problem.retry_after_seconds or 5
        return render(
            request, "pages/activation.html",
            {"problem": problem, "seconds": seconds, "retry_url": retry_url(request)},
            session=session, status_code=503, headers={"Retry-After": str(seconds)},
        )  # fmt: skip
    template = (
        "pages/closed.html" if problem.type == "outside-access-hours" else "pages/refused.html"
    )
    status = problem.status if 400 <= problem.status < 600 else 502  # noqa: PLR2004
    return render(request, template, {"problem": problem}, session=session, status_code=status)


def service_refused_page(request: Request, error: Exception) -> Response:
    """A service's refusal that no page turned into a form error."""
    assert isinstance(error, ServiceRefused)
    return problem_page(request, error.problem, session_of(request))


def retry_url(request: Request) -> str:
    """Where « Réessayer » leads: this page for a GET, else the page the form was on (its
    same-origin referrer), else « Mes applications »."""
    if request.method == "GET":
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    referrer = urlsplit(request.headers.get("referer", ""))
    if referrer.netloc == request.url.netloc and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return "/applications"


def session_ended_page(request: Request, error: Exception) -> Response:
    """Back to the sign-in page; when a service ended the session (logout elsewhere, account
    or habilitation ended, organisation suspended), with its reason."""
    assert isinstance(error, SessionEnded)
    if error.problem is None:
        return see_other("/connexion?session=terminee")
    token = pre_session_token(request)
    response = render(
        request, "pages/sign_in.html",
        {"csrf_token": token, "refusal": error.problem,
         "notice": "Votre session a pris fin : reconnectez-vous."},
        status_code=401,
    )  # fmt: skip
    response.delete_cookie(SESSION_COOKIE, path="/")
    set_pre_session_cookie(response, request, token)
    return response


def csrf_page(request: Request, _error: Exception) -> HTMLResponse:
    return render(request, "pages/csrf.html", status_code=403)
