"""Errors as RFC 9457 problem details (``application/problem+json``), naming each bad field.

Handlers raise :class:`Problem` (or a subclass) for refusals the rules call for; request bodies
that do not validate get a 422 whose ``errors`` list every bad field by its JSON path
(``body.address.postal_code``) with what is wrong; nothing is changed by a refused request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://kairos.example/problems/"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class Problem(Exception):  # noqa: N818 - RFC 9457 calls it a problem
    """A refusal to report as problem details; ``type`` is a slug under :data:`PROBLEM_BASE`."""

    status: int
    title: str
    detail: str
    type: str = "about:blank"
    errors: list[FieldError] = field(default_factory=list)
    extensions: dict[str, Any] = field(default_factory=dict)

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type if ":" in self.type else PROBLEM_BASE + self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        body.update(self.extensions)
        return body


def invalid_fields(errors: list[FieldError], *, detail: str | None = None) -> Problem:
    return Problem(
        status=422,
        title="Invalid request",
        detail=detail or "; ".join(f"{e.field}: {e.message}" for e in errors),
        type="invalid-request",
        errors=errors,
    )


def unauthenticated(detail: str) -> Problem:
    """401: no valid token, or one whose session or account no longer holds (K9)."""
    return Problem(status=401, title="Not authenticated", detail=detail, type="unauthenticated")


def forbidden(detail: str, title: str = "Forbidden") -> Problem:
    """403: the caller is known but may not do this (nothing was changed)."""
    return Problem(status=403, title=title, detail=detail, type="forbidden")


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".")


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    return JSONResponse(
        problem.body(instance=request.url.path), status_code=problem.status, media_type=MEDIA_TYPE
    )


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, problem: Problem) -> JSONResponse:
        return problem_response(problem, request)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [FieldError(_field_path(item["loc"]), str(item["msg"])) for item in error.errors()]
        return problem_response(invalid_fields(errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        problem = Problem(
            status=error.status_code, title=str(error.detail), detail=str(error.detail)
        )
        return problem_response(problem, request)
