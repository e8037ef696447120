"""Liveness and readiness for orchestrators and ``make run``.

``/health/live`` answers 200 while the process serves HTTP. ``/health/ready`` runs every probe
(PostgreSQL, Kafka, …) with a timeout and answers 200 only when all pass, else 503 with the
reason of each failing one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse

Probe = Callable[[], Awaitable[None]]


async def _run(probe: Probe, timeout: float) -> str | None:
    try:
        await asyncio.wait_for(probe(), timeout)
    except TimeoutError:
        return f"no answer within {timeout:g}s"
    except Exception as error:  # noqa: BLE001 - any failure is a reason to report, not raise
        return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return None


def health_router(probes: Mapping[str, Probe], *, timeout: float) -> APIRouter:
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live")
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @router.get("/ready")
    async def ready() -> JSONResponse:
        names = list(probes)
        results = await asyncio.gather(*(_run(probes[name], timeout) for name in names))
        checks = {
            name: ("ok" if reason is None else reason)
            for name, reason in zip(names, results, strict=True)
        }
        failing = any(reason is not None for reason in results)
        return JSONResponse(
            {"status": "unavailable" if failing else "ready", "checks": checks},
            status_code=503 if failing else 200,
        )

    return router
