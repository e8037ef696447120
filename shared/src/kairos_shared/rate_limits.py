"""Per-account read limits (K22: bulk extraction is prevented): a token bucket per key.

Each key (an account id) has a bucket of ``burst`` tokens, refilled at ``rate_per_second``; a
read takes ``cost`` tokens (1, or more for a bigger page) or is refused with
:class:`RateLimitedError`, which says when enough tokens will be back. A refused read takes
nothing, so a caller that waits ``retry_after_seconds`` gets through.

The buckets live in the memory of one process: with N replicas behind a load balancer a caller
may get up to N times the limit (and a restart refills every bucket). That still bounds
bulk extraction to a fixed multiple of the limit; an exact cluster-wide limit would need a
shared store (PostgreSQL or Redis) on every read.

Memory is bounded: a bucket idle long enough to be full again is the same as no bucket, so it
is dropped (the least recently used first, checked on every :meth:`RateLimiter.take`); beyond
``max_keys`` buckets in use, the least recently used is dropped even when not full (that caller
gets a full bucket back: a loosening, never a wrong refusal).

:meth:`RateLimiter.take` does not await: it is atomic within the event loop (not thread-safe).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kairos_shared.clock import Clock
from kairos_shared.problems import Problem, problem_response

DEFAULT_MAX_KEYS = 100_000


class RateLimitedError(Exception):
    """Too many requests for this key; enough tokens are back in ``retry_after_seconds``."""

    def __init__(self, retry_after_seconds: float) -> None:
        super().__init__(f"rate limited: retry after {retry_after_seconds:.3f} s")
        self.retry_after_seconds = retry_after_seconds

    @property
    def retry_after(self) -> int:
        """Whole seconds to wait, as ``Retry-After`` says it (rounded up, at least 1)."""
        return max(1, math.ceil(self.retry_after_seconds))


@dataclass
class _Bucket:
    tokens: float
    updated_at: datetime


class RateLimiter:
    """Token buckets per key, on an injected clock."""

    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        clock: Clock,
        *,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        if not (rate_per_second > 0 and math.isfinite(rate_per_second)):
            raise ValueError(f"rate_per_second must be positive, got {rate_per_second!r}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, got {max_keys!r}")
        self.rate_per_second = rate_per_second
        self.burst = burst
        self.max_keys = max_keys
        self._clock = clock
        self._full_after_seconds = burst / rate_per_second
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()  # least recently used first

    def __len__(self) -> int:
        """How many buckets are held (the others are full)."""
        return len(self._buckets)

    def take(self, key: str, cost: float = 1) -> None:
        """Take ``cost`` tokens from ``key``'s bucket, or raise :class:`RateLimitedError`."""
        if not 0 <= cost <= self.burst:
            raise ValueError(f"cost must be between 0 and the burst ({self.burst}), got {cost!r}")
        now = self._clock.now()
        self._drop_full_buckets(now)
        bucket = self._buckets.get(key)
        tokens = self._tokens(bucket, now)
        if tokens < cost:
            raise RateLimitedError((cost - tokens) / self.rate_per_second)
        if tokens - cost >= self.burst:  # still full (cost 0): the same as no bucket
            self._buckets.pop(key, None)
        elif bucket is None:
            self._buckets[key] = _Bucket(tokens - cost, now)
            self._keep_within_max_keys()
        else:
            bucket.tokens, bucket.updated_at = tokens - cost, now
            self._buckets.move_to_end(key)

    def _tokens(self, bucket: _Bucket | None, now: datetime) -> float:
        if bucket is None:
            return float(self.burst)
        elapsed = max(0.0, (now - bucket.updated_at).total_seconds())  # a clock set back: 0
        return min(float(self.burst), bucket.tokens + elapsed * self.rate_per_second)

    def _drop_full_buckets(self, now: datetime) -> None:
        """Drop the buckets idle long enough to be full again, least recently used first (the
        rest were used more recently): amortised O(1) per take."""
        while self._buckets:
            key, bucket = next(iter(self._buckets.items()))
            if (now - bucket.updated_at).total_seconds() < self._full_after_seconds:
                return
            del self._buckets[key]

    def _keep_within_max_keys(self) -> None:
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)


def problem(error: RateLimitedError) -> Problem:
    """The 429 problem for a refused read, its wait in the ``retry_after`` member (seconds)."""
    return Problem(
        status=429,
        title="Too many requests",
        detail=f"too many requests for this account; retry in {error.retry_after} s",
        type="rate-limited",
        extensions={"retry_after": error.retry_after},
    )


def rate_limited_response(error: RateLimitedError, request: Request) -> JSONResponse:
    """The 429 problem response with its ``Retry-After`` header."""
    response = problem_response(problem(error), request)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def install_rate_limit_handler(app: FastAPI) -> None:
    """Answer a :class:`RateLimitedError` raised by a route or its dependencies with a 429."""

    @app.exception_handler(RateLimitedError)
    async def on_rate_limited(request: Request, error: RateLimitedError) -> JSONResponse:
        return rate_limited_response(error, request)
