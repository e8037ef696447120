"""What the service layer needs from the outside: the four services' HTTP APIs and the web
sessions' store. The adapters implement them; unit tests give fakes."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from kairos_portal.domain.calls import Answer, Request, Service, ServiceRefused
from kairos_portal.domain.web_sessions import WebSession

__all__ = ["Answer", "Request", "Service", "ServiceApi", "ServiceRefused", "SessionStore"]


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
