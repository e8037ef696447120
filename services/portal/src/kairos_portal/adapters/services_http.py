"""The four services' public HTTP APIs, called with the person's bearer token (httpx)."""

from __future__ import annotations

from typing import Any

import httpx

from kairos_portal.domain.calls import Answer, Request, Service, ServiceRefused
from kairos_portal.domain.problems import parse_problem

_FORWARDED = ("retry-after", "content-type", "content-disposition", "cache-control")


class HttpServiceApi:
    def __init__(self, urls: dict[str, str], *, timeout: float = 30.0) -> None:
        self._clients = {
            name: httpx.AsyncClient(base_url=url, timeout=timeout) for name, url in urls.items()
        }

    async def send(self, service: Service, request: Request, token: str | None) -> Answer:
        headers = {"Accept": "application/json, application/problem+json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if request.idempotency_key:
            headers["Idempotency-Key"] = request.idempotency_key
        if request.content_type:
            headers["Content-Type"] = request.content_type
        try:
            response = await self._clients[service].request(
                request.method, request.path, json=request.json, content=request.content,
                params=request.params, headers=headers,
            )  # fmt: skip
        except httpx.HTTPError as error:
            raise ServiceRefused(
                parse_problem(503, {"type": "unreachable", "title": "Service injoignable",
                                    "detail": f"{service}: {type(error).__name__}"})
            ) from None  # fmt: skip
        kept = {k: v for k, v in response.headers.items() if k.lower() in _FORWARDED}
        body: Any = None
        if "json" in response.headers.get("content-type", ""):
            try:
                body = response.json()
            except ValueError:
                body = None
        if response.is_success:
            return Answer(response.status_code, body, kept, response.text)
        raise ServiceRefused(
            parse_problem(response.status_code, body, response.headers.get("retry-after"))
        )

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
