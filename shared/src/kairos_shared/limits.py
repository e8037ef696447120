"""A bound on request bodies: what a service reads of a request is at most ``max_body_bytes``.

A body declared larger (``Content-Length``) is refused at once with a 413 problem, before any
route runs (nothing is changed); a body sent without a length (chunked) is counted as the route
reads it, and the read that goes past the bound raises :class:`BodyTooLargeError`, answered with
the same 413. The default (:data:`DEFAULT_MAX_BODY_BYTES`) fits the largest request a service
takes: a monthly attendance batch of 5000 rows (about 2.1 MB of indented JSON with the longest
Carif-Oref numbers).
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kairos_shared.problems import Problem, problem_response

DEFAULT_MAX_BODY_BYTES: Final = 4 * 1024 * 1024


class BodyTooLargeError(HTTPException):
    """The request body went past the bound while being read. A FastAPI ``HTTPException``, so
    that FastAPI's body parsing lets it through (anything else becomes a 400)."""

    def __init__(self, max_body_bytes: int) -> None:
        super().__init__(status_code=413, detail=f"the request body exceeds {max_body_bytes} bytes")
        self.max_body_bytes = max_body_bytes


def _problem(max_body_bytes: int) -> Problem:
    return Problem(
        status=413,
        title="Request body too large",
        detail=f"the request body exceeds {max_body_bytes} bytes",
        type="body-too-large",
    )


class BodySizeLimitMiddleware:
    """Pure ASGI: refuses declared oversized bodies up front, counts streamed ones."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if (
            declared is not None
            and declared.isascii()
            and declared.isdigit()
            and int(declared) > self.max_body_bytes
        ):
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLargeError(self.max_body_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLargeError:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(_problem(self.max_body_bytes), Request(scope, receive))
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)


def limit_body_size(app: FastAPI, max_body_bytes: int) -> None:
    """Bound `app`'s request bodies; the 413 is a problem like every other refusal."""

    @app.exception_handler(BodyTooLargeError)
    async def on_too_large(request: Request, error: BodyTooLargeError) -> JSONResponse:
        return problem_response(_problem(error.max_body_bytes), request)

    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=max_body_bytes)
