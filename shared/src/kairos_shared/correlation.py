"""Correlation ids: one id follows a request through HTTP, the outbox, Kafka and every consumer.

HTTP carries it in ``X-Correlation-ID`` (taken when well-formed, else a new one, and always
echoed in the response); events carry it in the CloudEvents ``correlationid`` extension
(``ce_correlationid`` header). It is bound to structlog's context, so every log line has it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Correlation-ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_current: ContextVar[str | None] = ContextVar("kairos_correlation_id", default=None)


def current_correlation_id() -> str | None:
    return _current.get()


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def accept_correlation_id(candidate: str | None) -> str:
    """The given id when well-formed (bounded, no control characters), else a new one."""
    if candidate and _WELL_FORMED.fullmatch(candidate):
        return candidate
    return new_correlation_id()


@contextmanager
def correlation_scope(correlation_id: str | None, **log_context: object) -> Iterator[str]:
    """Within this block, events and logs carry ``correlation_id`` (and ``log_context``)."""
    accepted = accept_correlation_id(correlation_id)
    token = _current.set(accepted)
    with structlog.contextvars.bound_contextvars(correlation_id=accepted, **log_context):
        try:
            yield accepted
        finally:
            _current.reset(token)


class CorrelationIdMiddleware:
    """Pure ASGI middleware: a correlation scope around each HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next(
            (
                value.decode("latin-1")
                for name, value in scope["headers"]
                if name.decode("latin-1").lower() == HEADER.lower()
            ),
            None,
        )
        with correlation_scope(given) as correlation_id:

            async def send_with_header(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", []))
                    headers.append((HEADER.lower().encode(), correlation_id.encode()))
                    message = {**message, "headers": headers}
                await send(message)

            await self.app(scope, receive, send_with_header)
