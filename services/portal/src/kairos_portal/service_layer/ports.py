"""What the service layer needs from the outside: the four services' HTTP APIs and the web
sessions' store. The adapters implement them; unit tests give fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from kairos_portal.domain.problems import ServiceProblem
from kairos_portal.domain.web_sessions import WebSession

Service = Literal["identity", "habilitation", "declaration", "notification"]


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""


class ServiceRefused(Exception):  # noqa: N818 - a refusal, as the service said it
    """A service answered with a problem (4xx/5xx)."""

    def __init__(self, problem: ServiceProblem) -> None:
        super().__init__(f"{problem.status} {problem.type}: {problem.detail}")
        self.problem = problem


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    params: dict[str, str] | None = None
    idempotency_key: str | None = None


class ServiceApi(Protocol):
    async def send(self, service: Service, request: Request, token: str | None) -> Answer:
        """The service's 2xx answer; raises :class:`ServiceRefused` for any other."""
        ...


class SessionStore(Protocol):
    async def get(self, key: bytes) -> WebSession | None: ...

    async def add(self, session: WebSession) -> None: ...

    async def save(self, session: WebSession) -> None: ...

    async def delete(self, key: bytes) -> None: ...

    async def delete_idle(self, last_seen_before: datetime) -> int: ...
