"""Errors as RFC 9457 problem details (``application/problem+json``), naming each bad field.

Handlers raise :class:`Problem` (or a subclass) for refusals the rules call for; request bodies
that do not validate get a 422 whose ``errors`` list every bad field by its JSON path
(``body.address.postal_code``) with what is wrong; nothing is changed by a refused request.
"""

from __future__ import annotations

import json
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
    headers: dict[str, str] = field(default_factory=dict)
    """Response headers that go with it (``Retry-After`` for a 429)."""

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


ORGANISATION_SETUP_RETRY_SECONDS = 2
"""The default ``Retry-After`` of :func:`organisation_being_set_up`: how long the validation
of an organisation usually takes to reach every service (each service has a setting)."""


def organisation_being_set_up(organisation_id: object, retry_after_seconds: int) -> Problem:
    """503: the caller's token names an organisation this service has not heard of yet (its
    validation, an event, is still on its way here). Not a 404: the organisation exists and
    will be known here in a moment; the client retries after ``Retry-After`` seconds. Only for
    callers tied to that organisation: an operator asking about an unknown one gets a 404."""
    return Problem(
        status=503,
        title="Organisation being set up",
        type="organisation-being-set-up",
        detail=f"organisation {organisation_id} is being set up on this service (its "
        f"validation has not reached it yet): retry in {retry_after_seconds} seconds",
        extensions={"retry_after_seconds": retry_after_seconds},
        headers={"Retry-After": str(retry_after_seconds)},
    )


ORGANISATION_BEING_SET_UP: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "Organisation being set up (`organisation-being-set-up`): the caller's "
        "own organisation was validated a moment ago and its validation has not reached this "
        "service yet; retry after `Retry-After` seconds. Operators get a 404 for an "
        "organisation unknown here.",
        "headers": {
            "Retry-After": {
                "description": "seconds to wait before retrying",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}
"""The OpenAPI ``responses`` entry of every operation that may answer
:func:`organisation_being_set_up` (``@router.post(..., responses=ORGANISATION_BEING_SET_UP)``)."""


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".")


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    return JSONResponse(
        problem.body(instance=request.url.path),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=problem.headers or None,
    )


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; a 422 lists each bad field in `errors`.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
"""What every refusal's body is (extensions such as ``retry_after`` are additional members)."""


def document_problems(app: FastAPI) -> None:
    """Declare in the app's OpenAPI document what its handlers answer: a 422 and every other
    error status (``default``) are ``application/problem+json`` :data:`PROBLEM_SCHEMA` bodies,
    not FastAPI's ``HTTPValidationError``."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        content = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = {"description": "Invalid request", "content": content}
                responses.setdefault("default", {"description": "Refused", "content": content})
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for replaced in ("HTTPValidationError", "ValidationError"):  # unless still referred to
            if f'"#/components/schemas/{replaced}"' not in json.dumps(document):
                schemas.pop(replaced, None)
        schemas["Problem"] = PROBLEM_SCHEMA
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise it


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
