"""A rate of requests (K8): a token bucket, kept as the generic cell rate algorithm's single
timestamp (the bucket's *theoretical arrival time*, TAT).

`burst` requests may come at once; the bucket then refills one request every `interval`. A
request at `now` is admitted when the TAT it would push forward stays within `burst` intervals
of `now`; otherwise it changes nothing and may come back when it would fit. Time is handed in,
as aware datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kairos_shared.clock import as_utc, require_aware


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Admitted (with the bucket's new TAT to keep), or refused until `retry_after`."""

    admitted: bool
    arrival: datetime
    """The TAT to store when admitted; the current one, unchanged, when refused."""
    retry_after: datetime | None


@dataclass(frozen=True, slots=True)
class RequestRate:
    burst: int
    interval: timedelta

    def __post_init__(self) -> None:
        if self.burst < 1:
            raise ValueError(f"burst must be 1 or more, got {self.burst}")
        if self.interval <= timedelta(0):
            raise ValueError("interval must be positive")

    @classmethod
    def per_second(cls, burst: int, rate: float) -> RequestRate:
        return cls(burst, timedelta(seconds=1 / rate))

    def admit(self, arrival: datetime | None, now: datetime) -> RateDecision:
        """May one more request come at `now`, given the bucket's TAT (None: a full bucket)?"""
        require_aware(now, "now")
        current = now if arrival is None else max(as_utc(arrival, "arrival"), now)
        pushed = current + self.interval
        allowance = self.interval * self.burst
        if pushed - now <= allowance:
            return RateDecision(admitted=True, arrival=pushed, retry_after=None)
        return RateDecision(admitted=False, arrival=current, retry_after=pushed - allowance)
