"""HTTP safeguards of every page: a strict Content-Security-Policy (no inline script, nothing
framed), no sniffing, no referrer sent to other sites; and the CSRF check of every form.

CSRF: a signed-in person's forms carry the web session's own token; the sign-in form (before
any session) carries the value of a short-lived pre-session cookie (double submit). Both are
compared in constant time; a mismatch is refused (403) before anything is sent to a service.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
PRE_SESSION_COOKIE = "kairos_portal_formulaire"
SESSION_COOKIE = "kairos_portal_session"


class SecurityHeaders:
    """Adds :data:`HEADERS` to every response (pages, static files, errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *[(n, v) for n, v in HEADERS if n not in present],
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def tokens_match(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
