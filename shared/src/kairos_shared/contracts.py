"""The platform's event contracts, served by every service next to its OpenAPI document:
``GET /asyncapi.yaml`` (the AsyncAPI document `make schemas` writes to ``schemas/``) and
``GET /asyncapi.json`` (the same document as JSON), both rendered from the event classes this
process runs with — what it publishes and consumes, not a copy that could drift."""

from __future__ import annotations

from functools import cache
from importlib import metadata
from typing import Any

from fastapi import APIRouter, Response

from kairos_schemas import registered_events
from kairos_schemas.asyncapi import asyncapi_document
from kairos_schemas.generate import render_yaml
from kairos_schemas.topics import PLATFORM_TOPICS


@cache
def platform_asyncapi() -> dict[str, Any]:
    return asyncapi_document(
        registered_events(), PLATFORM_TOPICS, metadata.version("kairos-schemas")
    )


def contracts_router() -> APIRouter:
    router = APIRouter(tags=["contracts"])

    @router.get("/asyncapi.json", summary="The platform's AsyncAPI document (JSON)")
    async def asyncapi_json() -> dict[str, Any]:
        return platform_asyncapi()

    @router.get(
        "/asyncapi.yaml",
        summary="The platform's AsyncAPI document (YAML), as in schemas/asyncapi.yaml",
        response_class=Response,
    )
    async def asyncapi_yaml() -> Response:
        return Response(render_yaml(platform_asyncapi()), media_type="application/yaml")

    return router
