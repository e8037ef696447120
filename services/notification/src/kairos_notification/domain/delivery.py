"""Delivery of an e-mail (K24): its statuses, when to try again, which failures are final.

An e-mail is *queued* until the SMTP server accepts it (*sent*). A failure the server or the
network may get over (a 4xx reply, a refused connection, a timeout) is tried again later with
exponential back-off; a refusal for good (a 5xx reply, an invalid address) or the last allowed
attempt makes it *failed*, recorded and never retried. *bounced* is for a delivery report that
comes back after the server accepted the e-mail.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from kairos_shared.clock import as_utc


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    BOUNCED = "bounced"


@dataclass(frozen=True)
class OutgoingEmail:
    """What the mailer sends: the notification's id (its Message-ID is derived from it, so a
    retry of an e-mail whose first send was uncertain carries the same Message-ID), the
    recipient, and the French text and HTML bodies."""

    notification_id: uuid.UUID
    recipient_email: str
    recipient_name: str
    subject: str
    text_body: str
    html_body: str
    date: datetime


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off: `first_delay` after the first failed attempt, multiplied by
    `factor` after each further one, capped at `max_delay`; no attempt after `max_attempts`.

    With the defaults the 8 attempts span about 63 minutes (30 s, 1, 2, 4, 8, 16, 32 min).
    """

    max_attempts: int = 8
    first_delay: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.first_delay <= timedelta(0) or self.max_delay < self.first_delay:
            raise ValueError("delays must be positive, max_delay at least first_delay")
        if self.factor < 1:
            raise ValueError("factor must be at least 1: the back-off never shrinks")

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1 for the first)."""
        if attempts < 1:
            raise ValueError("attempts counts the attempts made: at least 1 after a failure")
        seconds = self.first_delay.total_seconds()
        limit = self.max_delay.total_seconds()
        for _ in range(attempts - 1):
            seconds *= self.factor
            if seconds >= limit:
                return self.max_delay
        return timedelta(seconds=seconds)

    def next_attempt(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after `attempts` failed attempts, or None: give up (failed)."""
        if attempts >= self.max_attempts:
            return None
        return as_utc(now, "now") + self.delay(attempts)


class ErrorKind(enum.StrEnum):
    """What went wrong while sending, as far as the mailer could tell."""

    REPLY = "reply"  # the server answered with an error code
    CONNECTION = "connection"  # refused, reset, disconnected, TLS failure
    TIMEOUT = "timeout"
    INVALID_ADDRESS = "invalid_address"  # the recipient's address cannot be sent to
    AUTHENTICATION = "authentication"  # our credentials: configuration, not the recipient
    UNSUPPORTED = "unsupported"  # the server lacks what we need (STARTTLS, AUTH)


@dataclass(frozen=True)
class Transient:
    """Try again later: the failure may go away by itself."""

    reason: str


@dataclass(frozen=True)
class Permanent:
    """Never try again: the same e-mail to the same address would fail the same way."""

    reason: str


def classify(smtp_code: int | None, error_kind: ErrorKind) -> Transient | Permanent:
    """Transient for 4xx replies, connection failures and timeouts; permanent for 5xx replies
    and an invalid address. Authentication and missing server features are our configuration,
    not the recipient's: transient, so the e-mails go once an operator fixes it."""
    if error_kind is ErrorKind.INVALID_ADDRESS:
        return Permanent("invalid recipient address")
    if error_kind in {ErrorKind.CONNECTION, ErrorKind.TIMEOUT}:
        return Transient(f"SMTP server unreachable ({error_kind})")
    if error_kind in {ErrorKind.AUTHENTICATION, ErrorKind.UNSUPPORTED}:
        return Transient(f"SMTP configuration problem ({error_kind})")
    if smtp_code is not None and 500 <= smtp_code <= 599:  # noqa: PLR2004 - RFC 5321 classes
        return Permanent(f"refused by the SMTP server ({smtp_code})")
    if smtp_code is not None and 400 <= smtp_code <= 499:  # noqa: PLR2004 - RFC 5321 classes
        return Transient(f"deferred by the SMTP server ({smtp_code})")
    return Transient("unexpected SMTP reply" if smtp_code is None else f"SMTP reply {smtp_code}")


# An address starts after a delimiter (the look-behind) and each part is read once (possessive,
# the local part stops at "@"): linear in the message, which is also cut before it is searched.
_ADDRESS = re.compile(r"(?<![^\s<>()\[\],;:\"'@])[^\s<>()\[\],;:\"'@]++@[^\s<>()\[\],;:\"']++")
_MAX_ERROR = 500


def describe_failure(smtp_code: int | None, message: str) -> str:
    """The failure as recorded and published: the code and the server's words, every e-mail
    address in them replaced by `<address>` (servers quote the refused recipient), on one
    line, at most 500 characters."""
    text = _ADDRESS.sub("<address>", " ".join(message[: 4 * _MAX_ERROR].split()))
    if smtp_code is not None:
        text = f"{smtp_code} {text}".rstrip()
    return text[:_MAX_ERROR] or "unknown error"
