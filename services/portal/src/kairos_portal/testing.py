"""In-memory stand-ins for the portal's unit tests (and anyone embedding it): the four
services' APIs (answers scripted per request) and the web sessions' store."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kairos_portal.domain.calls import Answer, Request, ServiceRefused
from kairos_portal.domain.problems import parse_problem
from kairos_portal.domain.web_sessions import WebSession

ORGANISATION = "6f1c2a1e-0000-4000-8000-000000000001"


def access_token(role: str = "rgc", *, change_only: bool = False, account: str = "a1") -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"sub": account, "org": ORGANISATION, "role": role, "pwd_change_only": change_only}
    return f"{part({'alg': 'EdDSA'})}.{part(claims)}.signature"


def tokens(role: str = "rgc", *, change_only: bool = False, expires_in: int = 600) -> Answer:
    return Answer(201, {"access_token": access_token(role, change_only=change_only),
                        "refresh_token": "refresh-1", "expires_in": expires_in,
                        "password_change_required": change_only})  # fmt: skip


def problem(
    status: int, slug: str, detail: str = "", *, retry_after: str | None = None, **extra: Any
) -> ServiceRefused:
    body = {"type": f"https://kairos.example/problems/{slug}", "title": slug, "status": status,
            "detail": detail, **extra}  # fmt: skip
    return ServiceRefused(parse_problem(status, body, retry_after))


Handler = Callable[[Request, str | None], Answer]


@dataclass
class FakeServices:
    """Answers by (service, method, path); records every request with its token."""

    routes: dict[tuple[str, str, str], Answer | ServiceRefused | Handler] = field(
        default_factory=dict
    )
    sent: list[tuple[str, Request, str | None]] = field(default_factory=list)

    def on(self, service: str, method: str, path: str, answer: Any) -> None:
        self.routes[(service, method, path)] = answer

    async def send(self, service: str, request: Request, token: str | None) -> Answer:
        self.sent.append((service, request, token))
        answer = self.routes.get((service, request.method, request.path))
        if answer is None:
            raise AssertionError(f"unexpected call {service} {request.method} {request.path}")
        if isinstance(answer, ServiceRefused):
            raise answer
        if callable(answer):
            return answer(request, token)
        return answer

    def calls(self, service: str, method: str, path: str) -> list[tuple[Request, str | None]]:
        return [(r, t) for s, r, t in self.sent if (s, r.method, r.path) == (service, method, path)]


@dataclass
class MemorySessions:
    rows: dict[bytes, WebSession] = field(default_factory=dict)

    async def get(self, key: bytes) -> WebSession | None:
        return self.rows.get(key)

    async def add(self, session: WebSession) -> None:
        self.rows[session.key] = session

    async def save(self, session: WebSession) -> None:
        if session.key in self.rows:
            self.rows[session.key] = session

    async def delete(self, key: bytes) -> None:
        self.rows.pop(key, None)

    async def delete_idle(self, last_seen_before: datetime) -> int:
        idle = [k for k, s in self.rows.items() if s.last_seen_at < last_seen_before]
        for key in idle:
            del self.rows[key]
        return len(idle)
