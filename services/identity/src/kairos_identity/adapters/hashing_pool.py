"""argon2 work off the event loop (K5, K8): a fixed pool of threads (argon2-cffi releases the
GIL while it hashes) and a bounded queue. When every worker is busy and the queue is full, the
work is refused at once (503 with ``Retry-After``) instead of waiting without end: a burst of
logins slows nothing else down, and the replica keeps answering everything else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from kairos_identity.domain.passwords import PasswordHasher
from kairos_shared.problems import Problem

T = TypeVar("T")


class HashingPool:
    def __init__(self, hasher: PasswordHasher, *, workers: int, queue: int) -> None:
        if workers < 1 or queue < 0:
            raise ValueError("workers must be 1 or more and queue 0 or more")
        self.hasher = hasher
        self.capacity = workers + queue
        self.in_flight = 0
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._run(self.hasher.verify, password_hash, password)

    async def hash(self, password: str) -> str:
        return await self._run(self.hasher.hash, password)

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        # Counted on the event loop's thread only: no lock needed.
        if self.in_flight >= self.capacity:
            raise Problem(
                status=503,
                title="Too busy",
                type="password-checks-busy",
                detail="too many password checks at once; try again in a second",
                headers={"Retry-After": "1"},
            )
        self.in_flight += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, work, *args)
        finally:
            self.in_flight -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
