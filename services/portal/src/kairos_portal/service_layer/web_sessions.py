"""Signing in and out, and calling a service as the signed-in person: the tokens stay here,
refreshed a little before they expire or when a service says the access token no longer holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from kairos_portal.domain.problems import ServiceProblem
from kairos_portal.domain.web_sessions import WebSession, digest, new_cookie_value, open_session
from kairos_portal.service_layer.ports import (
    Answer,
    Request,
    Service,
    ServiceApi,
    ServiceRefused,
    SessionStore,
)
from kairos_shared.clock import Clock


class SessionEnded(Exception):  # noqa: N818 - a state the person meets, not a bug
    """No live web session: the cookie is unknown, idle too long, or its tokens were refused
    (then ``problem`` is the service's refusal, its reason shown to the person)."""

    def __init__(self, problem: ServiceProblem | None = None) -> None:
        super().__init__(problem.detail if problem else "no live web session")
        self.problem = problem


@dataclass
class Portal:
    """The service layer's collaborators, wired once by the bootstrap."""

    api: ServiceApi
    sessions: SessionStore
    clock: Clock
    idle_timeout: timedelta


def _tokens(answer: Answer) -> tuple[str, str, int]:
    body: dict[str, Any] = answer.body
    return str(body["access_token"]), str(body["refresh_token"]), int(body["expires_in"])


async def sign_in(portal: Portal, login_id: str, password: str) -> tuple[str, WebSession]:
    """The identity service's login; a new web session: (cookie value, session). Raises
    :class:`ServiceRefused` with the service's reason (wrong password, locked, closed hours)."""
    answer = await portal.api.send(
        "identity",
        Request("POST", "/v1/sessions", json={"login_id": login_id, "password": password}),
        None,
    )
    access, refresh, expires_in = _tokens(answer)
    cookie = new_cookie_value()
    session = open_session(
        cookie, login_id, access, refresh, expires_in=expires_in, now=portal.clock.now()
    )
    await portal.sessions.add(session)
    return cookie, session


async def current(portal: Portal, cookie: str | None) -> WebSession:
    """The live session the cookie stands for, seen now; its token refreshed if it is due."""
    if not cookie:
        raise SessionEnded
    session = await portal.sessions.get(digest(cookie))
    now = portal.clock.now()
    if session is None:
        raise SessionEnded
    if session.is_idle(now, portal.idle_timeout):
        await end(portal, session)
        raise SessionEnded
    if session.needs_refresh(now):
        session = await _refreshed(portal, session)
    session = session.seen(now)
    await portal.sessions.save(session)
    return session


async def _refreshed(portal: Portal, session: WebSession) -> WebSession:
    try:
        answer = await portal.api.send(
            "identity",
            Request("POST", "/v1/sessions/refresh", json={"refresh_token": session.refresh_token}),
            None,
        )
    except ServiceRefused as refused:
        if refused.problem.status in {400, 401, 403, 422}:
            await portal.sessions.delete(session.key)
            raise SessionEnded(refused.problem) from None
        raise
    access, refresh, expires_in = _tokens(answer)
    renewed = session.with_tokens(access, refresh, expires_in, portal.clock.now())
    await portal.sessions.save(renewed)
    return renewed


async def call(
    portal: Portal, session: WebSession, service: Service, request: Request
) -> tuple[WebSession, Answer]:
    """The service's answer to ``request`` made with the person's token; once more with a
    refreshed token if the service says the access token no longer holds (401)."""
    try:
        return session, await portal.api.send(service, request, session.access_token)
    except ServiceRefused as refused:
        if not refused.problem.is_unauthenticated:
            raise
        first_refusal = refused.problem
    try:
        session = await _refreshed(portal, session)
    except SessionEnded:
        raise SessionEnded(first_refusal) from None
    try:
        return session, await portal.api.send(service, request, session.access_token)
    except ServiceRefused as refused:
        if refused.problem.is_unauthenticated:
            await portal.sessions.delete(session.key)
            raise SessionEnded(refused.problem) from None
        raise


async def end(portal: Portal, session: WebSession) -> None:
    """Log out: the identity service ends the session everywhere (K9); its tokens are deleted
    here whatever it answered."""
    try:
        await portal.api.send(
            "identity", Request("DELETE", "/v1/sessions/current"), session.access_token
        )
    except ServiceRefused:
        pass  # already ended there (lapsed, expired): nothing is left to end
    finally:
        await portal.sessions.delete(session.key)


async def change_password(
    portal: Portal, session: WebSession, current_password: str, new_password: str
) -> tuple[str, WebSession]:
    """The identity service replaces the password and ends the account's sessions; the person is
    signed in again with the new one: (new cookie value, new session)."""
    await portal.api.send(
        "identity",
        Request(
            "POST",
            "/v1/accounts/me/password",
            json={"current_password": current_password, "new_password": new_password},
        ),
        session.access_token,
    )
    await portal.sessions.delete(session.key)
    return await sign_in(portal, session.login_id, new_password)


async def forget_idle(portal: Portal) -> int:
    """Delete the sessions idle past the timeout (their tokens with them)."""
    return await portal.sessions.delete_idle(portal.clock.now() - portal.idle_timeout)
