"""Periodic jobs of a service (deadline schedulers): run every ``interval`` while the service
runs; a failing round is logged and the next one comes at the next interval. Jobs must be safe
with several replicas running them at once (claim rows with ``FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval_seconds: float
    run: Callable[[], Awaitable[object]]

    async def loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_seconds)
            try:
                result = await self.run()
            except Exception as error:  # noqa: BLE001 - a failed round must not stop the job
                log.warning("periodic job failed", job=self.name, error=repr(error))
            else:
                log.debug("periodic job ran", job=self.name, result=repr(result))
