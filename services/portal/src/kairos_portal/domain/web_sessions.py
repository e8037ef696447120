"""A web session: what the browser's opaque cookie stands for, kept server-side (K9).

The cookie holds a random id; the database keeps only its SHA-256, with the person's access and
refresh tokens. A session unused for the idle timeout ends; its access token is refreshed a
little before it expires, without the person noticing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

REFRESH_MARGIN = timedelta(seconds=30)
COOKIE_BYTES = 32


def new_cookie_value() -> str:
    return secrets.token_urlsafe(COOKIE_BYTES)


def digest(cookie_value: str) -> bytes:
    """What the database keeps of a cookie: a leaked table gives no usable cookie."""
    return hashlib.sha256(cookie_value.encode()).digest()


@dataclass(frozen=True)
class Person:
    """Who the access token says is signed in: for navigation only (each service decides)."""

    account_id: str
    organisation_id: str | None
    role: str
    password_change_only: bool

    @property
    def role_label(self) -> str:
        return {
            "rgc": "Responsable de gestion de comptes (RGC)",
            "head": "Responsable de l'organisme",
            "user": "Utilisateur habilité",
            "operator": "Opérateur France Travail",
        }.get(self.role, self.role)


def person_of(access_token: str) -> Person:
    """The claims of an access token, read without checking its signature: the portal only got
    it from the identity service itself, and every service checks it on each call."""
    try:
        payload_part = access_token.split(".")[1]
        padded = payload_part + "=" * (-len(payload_part) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (IndexError, ValueError, binascii.Error):
        raise ValueError("not a JWT") from None
    if not isinstance(claims, dict):
        raise ValueError("not a JWT")  # noqa: TRY004 - a bad token, like the errors above
    organisation = claims.get("org")
    return Person(
        account_id=str(claims.get("sub", "")),
        organisation_id=None if organisation is None else str(organisation),
        role=str(claims.get("role", "")),
        password_change_only=bool(claims.get("pwd_change_only", False)),
    )


@dataclass(frozen=True)
class WebSession:
    key: bytes
    """SHA-256 of the cookie's value."""
    login_id: str
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime

    @property
    def person(self) -> Person:
        return person_of(self.access_token)

    def is_idle(self, now: datetime, idle_timeout: timedelta) -> bool:
        return now - self.last_seen_at >= idle_timeout

    def needs_refresh(self, now: datetime) -> bool:
        return now >= self.access_expires_at - REFRESH_MARGIN

    def with_tokens(self, access: str, refresh: str, expires_in: int, now: datetime) -> WebSession:
        return replace(
            self,
            access_token=access,
            refresh_token=refresh,
            access_expires_at=now + timedelta(seconds=expires_in),
        )

    def seen(self, now: datetime) -> WebSession:
        return replace(self, last_seen_at=now)


def open_session(
    cookie_value: str, login_id: str, access: str, refresh: str, *, expires_in: int, now: datetime
) -> WebSession:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return WebSession(
        key=digest(cookie_value),
        login_id=login_id,
        access_token=access,
        refresh_token=refresh,
        access_expires_at=now.astimezone(UTC) + timedelta(seconds=expires_in),
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        last_seen_at=now,
    )
