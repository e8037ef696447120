"""Login, sessions and passwords (K4-K9).

A login checks the throttle (K8), the account's status and the password, then what
:mod:`session_access` requires (the organisation's access and hours, K2-K4; the holder's
habilitation not suspended, K14); it opens a server-side session and returns a short-lived
access token plus a refresh token bound to that session. With provisional credentials (or after
an operator reset) the session can only change the password (K6, K7). Logout deletes the
session (K9, §6); every end of a session is an event.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import structlog

from kairos_identity.adapters import accounts
from kairos_identity.adapters.accounts import AccountRow, SessionRow
from kairos_identity.domain.passwords import UnacceptablePasswordError, normalise_password
from kairos_identity.service_layer import password_checks
from kairos_identity.service_layer.context import SOURCE, IdentityContext
from kairos_identity.service_layer.session_access import check_session_allowed
from kairos_schemas import Event
from kairos_schemas import identity as events
from kairos_shared import outbox
from kairos_shared.db import Connection
from kairos_shared.problems import FieldError, Problem, invalid_fields
from kairos_shared.tokens import AccessClaims

log = structlog.get_logger(__name__)

_SESSION_ENDED = Problem(
    status=401, title="Session ended", detail="this session has ended", type="session-ended"
)
_BAD_CREDENTIALS = Problem(
    status=401,
    title="Login refused",
    detail="unknown login id or wrong password",  # one message: no account enumeration
    type="login-refused",
)


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    password_change_only: bool


def _digest(refresh_token: str) -> bytes:
    return hashlib.sha256(refresh_token.encode()).digest()


async def login(
    context: IdentityContext, login_id: str, password: str, client_address: str
) -> IssuedTokens:
    """Open a session (K5, K8). Known and unknown login ids take the same path at the same
    cost: the same rates, the same failure counts, one argon2 check in the bounded pool."""
    await password_checks.admit(context, client_address)
    await password_checks.refuse_if_throttled(context, login_id, client_address)
    async with context.pool.acquire() as connection:
        account = await accounts.by_login_id(connection, login_id)
    usable = (
        account is not None
        and account.status not in {"lapsed", "disabled"}
        and account.password_hash is not None
    )
    if account is None or account.password_hash is None or not usable:
        await context.hashing.verify(context.dummy_hash, password)  # same cost either way
        matches = False
    else:
        password = normalise_password(password)
        matches = await context.hashing.verify(account.password_hash, password)
    if not matches:
        await password_checks.record_failure(context, login_id, client_address)
        raise _BAD_CREDENTIALS
    assert account is not None
    assert account.password_hash is not None
    await password_checks.record_success(context, login_id, client_address)
    needs = context.hasher.needs_rehash(account.password_hash)
    rehashed = await context.hashing.hash(password) if needs else None
    now = context.clock.now()
    expired = account.provisional_until is not None and now >= account.provisional_until
    if account.must_change_password and expired:
        raise Problem(
            status=401,
            title="Provisional credentials expired",
            detail="these provisional credentials have expired: ask for new ones",
            type="provisional-credentials-expired",
        )
    return await _open_session(context, account, now, rehashed)


async def _open_session(
    context: IdentityContext, account: AccountRow, now: datetime, rehashed: str | None
) -> IssuedTokens:
    async with context.pool.acquire() as connection, connection.transaction():
        # Read again, locked: an account disabled or suspended since the password check is
        # refused, and one disabled or suspended later waits for this session and ends it.
        current = await accounts.by_id(connection, account.id)
        if current is None or current.status in {"lapsed", "disabled"}:
            raise _BAD_CREDENTIALS
        await check_session_allowed(context, connection, current, now)
        await accounts.record_login_success(connection, account.id, now, rehashed)
        session = SessionRow(
            uuid.uuid4(), account.id, account.must_change_password, now + context.session_lifetime
        )
        refresh_token = secrets.token_urlsafe(32)
        await accounts.insert_session(connection, session, _digest(refresh_token), now=now)
        await outbox.publish(
            connection,
            [
                events.SessionStarted(
                    account_id=str(account.id),
                    session_id=str(session.id),
                    role=account.role,
                    organisation_id=None
                    if account.organisation_id is None
                    else str(account.organisation_id),
                    started_at=now,
                )
            ],
            source=SOURCE,
        )
    return _tokens(context, account, session, refresh_token, now)


def _tokens(
    context: IdentityContext, account: AccountRow, session: SessionRow, refresh: str, now: datetime
) -> IssuedTokens:
    token = context.signer.issue(
        account_id=str(account.id),
        organisation_id=None if account.organisation_id is None else str(account.organisation_id),
        role=account.role,
        session_id=str(session.id),
        password_change_only=session.password_change_only,
        now=now,
    )
    return IssuedTokens(
        token, refresh, int(context.signer.lifetime.total_seconds()), session.password_change_only
    )


async def current_session(context: IdentityContext, claims: AccessClaims) -> SessionRow:
    """The session a token names, if it still exists: a logout deletes it (K9)."""
    async with context.pool.acquire() as connection:
        session = await accounts.session(connection, uuid.UUID(claims.session_id))
    if session is None or session.expires_at <= context.clock.now():
        raise Problem(
            status=401, title="Session ended", detail="this session has ended", type="session-ended"
        )
    return session


async def change_password(
    context: IdentityContext,
    claims: AccessClaims,
    current_password: str,
    new_password: str,
    client_address: str,
) -> None:
    """Replace the password once the current one is checked: under the same rates and failed
    -login throttle as a login (K8), so that a stolen access token cannot try passwords."""
    await password_checks.admit(context, client_address)
    await current_session(context, claims)
    async with context.pool.acquire() as connection:
        found = await accounts.by_id(connection, uuid.UUID(claims.account_id))
    assert found is not None
    await password_checks.refuse_if_throttled(context, found.login_id, client_address)
    if found.password_hash is None or not await context.hashing.verify(
        found.password_hash, current_password
    ):
        await password_checks.record_failure(context, found.login_id, client_address)
        raise invalid_fields([FieldError("current_password", "wrong current password")])
    try:
        new_password = context.password_policy.require_acceptable(
            new_password, login_id=found.login_id, names=(found.first_name, found.last_name)
        )
    except UnacceptablePasswordError as error:
        raise invalid_fields(
            [FieldError("new_password", problem.message) for problem in error.problems]
        ) from None
    if await context.hashing.verify(found.password_hash, new_password):
        raise invalid_fields([FieldError("new_password", "must differ from the current password")])
    new_hash = await context.hashing.hash(new_password)
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        account = await accounts.by_id(connection, found.id)
        assert account is not None
        if account.password_hash != found.password_hash:  # changed meanwhile: check again
            raise invalid_fields([FieldError("current_password", "wrong current password")])
        await accounts.set_password(connection, account.id, new_hash, activated_at=now)
        published: list[Event] = []
        if account.status == "provisional":
            published.append(
                events.AccountActivated(
                    account_id=str(account.id),
                    role=account.role,
                    organisation_id=None
                    if account.organisation_id is None
                    else str(account.organisation_id),
                    activated_at=now,
                )
            )
        await outbox.publish(connection, published, source=SOURCE)
        # Every session of the account ends: the next login is a full one (K7).
        await end_sessions(
            connection,
            [account.id],
            reason="password_changed",
            now=now,
            organisation_id=None
            if account.organisation_id is None
            else str(account.organisation_id),
        )


async def logout(context: IdentityContext, claims: AccessClaims) -> None:
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        if await accounts.delete_session(connection, uuid.UUID(claims.session_id)):
            await outbox.publish(
                connection,
                [
                    events.SessionEnded(
                        account_id=claims.account_id,
                        organisation_id=claims.organisation_id,
                        session_id=claims.session_id,
                        reason="logout",
                        ended_at=now,
                    )
                ],
                source=SOURCE,
            )


async def refresh(
    context: IdentityContext, refresh_token: str, client_address: str
) -> IssuedTokens:
    """A new access token for a live session; the refresh token is rotated (used once). The
    token it replaced, presented again, ends the session (RFC 9700 §4.14.2)."""
    await password_checks.admit(context, client_address)
    now = context.clock.now()
    digest = _digest(refresh_token)
    async with context.pool.acquire() as connection, connection.transaction():
        session = await accounts.session_by_refresh_token(connection, digest)
        if session is None:
            reused = await accounts.session_by_previous_refresh_token(connection, digest)
            if reused is not None:  # ended and committed; refused below, outside
                await _end_reused_session(connection, reused, now)
        elif session.expires_at > now:
            account = await accounts.by_id(connection, session.account_id)
            assert account is not None
            await check_session_allowed(context, connection, account, now)
            rotated = secrets.token_urlsafe(32)
            await accounts.rotate_refresh_token(connection, session.id, _digest(rotated), now)
    if session is None or session.expires_at <= now:
        raise _SESSION_ENDED
    assert account is not None
    return _tokens(context, account, session, rotated, now)


async def _end_reused_session(connection: Connection, session: SessionRow, now: datetime) -> None:
    """A rotated-away refresh token came back (RFC 9700 §4.14.2): whoever holds the session's
    tokens, the owner or a thief, one of them stole them; the session ends everywhere. The
    refusal that follows is raised once this is committed."""
    account = await accounts.by_id(connection, session.account_id)
    assert account is not None
    if not await accounts.delete_session(connection, session.id):
        return
    await outbox.publish(
        connection,
        [
            events.SessionEnded(
                account_id=str(session.account_id),
                organisation_id=None
                if account.organisation_id is None
                else str(account.organisation_id),
                session_id=str(session.id),
                reason="refresh_token_reused",
                ended_at=now,
            )
        ],
        source=SOURCE,
    )
    log.warning(
        "security: refresh token reused, session ended",
        security_event="refresh_token_reused",
        account_id=str(session.account_id),
        session_id=str(session.id),
    )


async def end_sessions(
    connection: Connection,
    account_ids: Iterable[uuid.UUID],
    *,
    reason: events.SessionEndReason,
    now: datetime,
    organisation_id: str | None,
) -> int:
    """Delete these accounts' sessions and say so, one SessionEnded each (K9)."""
    ended = await accounts.delete_sessions(connection, account_ids)
    await outbox.publish(
        connection,
        [
            events.SessionEnded(
                account_id=str(account_id),
                organisation_id=organisation_id,
                session_id=str(session_id),
                reason=reason,
                ended_at=now,
            )
            for session_id, account_id in ended
        ],
        source=SOURCE,
    )
    return len(ended)
