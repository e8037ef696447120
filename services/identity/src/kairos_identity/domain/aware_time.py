"""Guards for the times the domain is handed: they must be aware.

Deadlines (K6) and lock-outs (K8) compare instants that come from a clock in the service layer;
a naive datetime has no instant, so comparing it would silently depend on the host's zone.
Durations are added in UTC: Python adds a timedelta to a zoned datetime on the wall clock, so
"7 days" across a change to summer time would otherwise last 6 days and 23 hours.
"""

from datetime import UTC, datetime


def require_aware(value: datetime, name: str) -> datetime:
    """Return `value` unchanged, or raise ValueError naming `name` when it has no UTC offset."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a UTC offset), got {value!r}")
    return value


def as_utc(value: datetime, name: str) -> datetime:
    """The same instant in UTC, where adding a duration adds exactly that much time."""
    return require_aware(value, name).astimezone(UTC)
