"""The account and session tables (asyncpg). Passwords only ever as argon2id hashes; refresh
tokens only as SHA-256 digests."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from kairos_shared.db import Connection


@dataclass(frozen=True)
class AccountRow:
    id: uuid.UUID
    organisation_id: uuid.UUID | None
    role: str
    login_id: str
    first_name: str
    last_name: str
    email: str
    status: str
    password_hash: str | None
    must_change_password: bool
    provisional_until: datetime | None
    failed_logins: int
    last_failed_login_at: datetime | None
    habilitation_id: uuid.UUID | None = None
    rgc_designation_id: uuid.UUID | None = None
    habilitation_suspended_at: datetime | None = None
    """Set while the holder's habilitation is suspended (K14): no session until reinstated."""
    hand_over_by: uuid.UUID | None = None
    """The operator who validated the account's designation and alone hands over its
    provisional credentials (K10)."""


def _account(row: asyncpg.Record) -> AccountRow:
    return AccountRow(**{name: row[name] for name in AccountRow.__dataclass_fields__})


async def first_free_login_id(connection: Connection, candidates: Iterable[str]) -> str:
    """The first candidate no account has (the caller holds the transaction, and inserts the
    account in it). Two accounts opened at once for people of the same name would pick the same
    one and the second insert would fail: a transaction lock on the first candidate makes the
    second wait until the first committed, then see its login id taken."""
    pending = iter(candidates)
    first = next(pending)
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"login_id:{first}")
    for candidate in itertools.chain([first], pending):
        taken = await connection.fetchval("SELECT 1 FROM account WHERE login_id = $1", candidate)
        if not taken:
            return candidate
    raise RuntimeError("no free login id among the candidates")  # pragma: no cover


async def insert(connection: Connection, account: AccountRow, *, now: datetime) -> None:
    await connection.execute(
        """
        INSERT INTO account (id, organisation_id, role, login_id, first_name, last_name, email,
                             habilitation_id, rgc_designation_id, status, password_hash,
                             must_change_password, provisional_until, provisional_issued_at,
                             created_at, credentials_retrieved_at, hand_over_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14,
                CASE WHEN $11::text IS NULL THEN NULL ELSE $14::timestamptz END, $15)
        """,
        account.id, account.organisation_id, account.role, account.login_id,
        account.first_name, account.last_name, account.email, account.habilitation_id,
        account.rgc_designation_id, account.status, account.password_hash,
        account.must_change_password, account.provisional_until, now, account.hand_over_by,
    )  # fmt: skip


async def by_login_id(connection: Connection, login_id: str) -> AccountRow | None:
    row = await connection.fetchrow(
        "SELECT * FROM account WHERE login_id = $1 FOR UPDATE", login_id
    )
    return None if row is None else _account(row)


async def by_id(connection: Connection, account_id: uuid.UUID) -> AccountRow | None:
    row = await connection.fetchrow("SELECT * FROM account WHERE id = $1 FOR UPDATE", account_id)
    return None if row is None else _account(row)


async def record_login_failure(
    connection: Connection, account_id: uuid.UUID, failures: int, at: datetime
) -> None:
    await connection.execute(
        "UPDATE account SET failed_logins = $2, last_failed_login_at = $3 WHERE id = $1",
        account_id,
        failures,
        at,
    )


async def record_login_success(
    connection: Connection, account_id: uuid.UUID, at: datetime, rehashed: str | None
) -> None:
    await connection.execute(
        """
        UPDATE account SET failed_logins = 0, last_failed_login_at = NULL, last_login_at = $2,
                           password_hash = coalesce($3, password_hash)
        WHERE id = $1
        """,
        account_id,
        at,
        rehashed,
    )


async def set_password(
    connection: Connection, account_id: uuid.UUID, password_hash: str, *, activated_at: datetime
) -> None:
    await connection.execute(
        """
        UPDATE account SET password_hash = $2, must_change_password = false, status = 'active',
                           provisional_until = NULL,
                           activated_at = coalesce(activated_at, $3)
        WHERE id = $1
        """,
        account_id,
        password_hash,
        activated_at,
    )


async def issue_provisional_password(
    connection: Connection,
    account_id: uuid.UUID,
    password_hash: str,
    *,
    now: datetime,
    provisional_until: datetime | None = None,
) -> None:
    """Store the hash of newly issued provisional credentials; they must be replaced (K7)."""
    await connection.execute(
        """
        UPDATE account SET password_hash = $2, must_change_password = true,
                           credentials_retrieved_at = $3,
                           provisional_until = coalesce($4, provisional_until),
                           provisional_issued_at = CASE WHEN $4::timestamptz IS NULL
                                                   THEN provisional_issued_at ELSE $3 END,
                           failed_logins = 0, last_failed_login_at = NULL
        WHERE id = $1
        """,
        account_id,
        password_hash,
        now,
        provisional_until,
    )
    await _forget_failed_logins(connection, account_id)


async def _forget_failed_logins(connection: Connection, account_id: uuid.UUID) -> None:
    """New credentials make earlier wrong guesses moot: the login id's counts start again, from
    every address (K8)."""
    await connection.execute(
        """
        UPDATE login_failures SET failures = 0, last_failure_at = NULL
        WHERE login_id = (SELECT login_id FROM account WHERE id = $1)
        """,
        account_id,
    )


async def reissue_lapsed(
    connection: Connection,
    account_id: uuid.UUID,
    password_hash: str,
    now: datetime,
    provisional_until: datetime,
) -> bool:
    """A lapsed account provisional again, with new credentials retrieved `now` (K6); False,
    changing nothing, when the account is not lapsed (any more)."""
    reissued: uuid.UUID | None = await connection.fetchval(
        """
        UPDATE account SET status = 'provisional', password_hash = $2, must_change_password = true,
                           credentials_retrieved_at = $3, provisional_issued_at = $3,
                           provisional_until = $4, provisional_reminders_sent = '{}',
                           failed_logins = 0, last_failed_login_at = NULL
        WHERE id = $1 AND status = 'lapsed'
        RETURNING id
        """,
        account_id, password_hash, now, provisional_until,
    )  # fmt: skip
    if reissued is not None:
        await _forget_failed_logins(connection, account_id)
    return reissued is not None


async def credentials_retrieved_at(
    connection: Connection, account_id: uuid.UUID
) -> datetime | None:
    value: datetime | None = await connection.fetchval(
        "SELECT credentials_retrieved_at FROM account WHERE id = $1", account_id
    )
    return value


async def organisation_account_ids(
    connection: Connection, organisation_id: uuid.UUID
) -> list[uuid.UUID]:
    rows = await connection.fetch(
        "SELECT id FROM account WHERE organisation_id = $1", organisation_id
    )
    return [row["id"] for row in rows]


# -- sessions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    id: uuid.UUID
    account_id: uuid.UUID
    password_change_only: bool
    expires_at: datetime


async def insert_session(
    connection: Connection,
    session: SessionRow,
    refresh_token_hash: bytes,
    *,
    now: datetime,
) -> None:
    await connection.execute(
        """
        INSERT INTO session (id, account_id, refresh_token_hash, password_change_only,
                             started_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        session.id,
        session.account_id,
        refresh_token_hash,
        session.password_change_only,
        now,
        session.expires_at,
    )


async def session(connection: Connection, session_id: uuid.UUID) -> SessionRow | None:
    row = await connection.fetchrow(
        "SELECT id, account_id, password_change_only, expires_at FROM session WHERE id = $1",
        session_id,
    )
    return None if row is None else SessionRow(**dict(row))


async def session_by_refresh_token(
    connection: Connection, refresh_token_hash: bytes
) -> SessionRow | None:
    row = await connection.fetchrow(
        """
        SELECT id, account_id, password_change_only, expires_at FROM session
        WHERE refresh_token_hash = $1 FOR UPDATE
        """,
        refresh_token_hash,
    )
    return None if row is None else SessionRow(**dict(row))


async def rotate_refresh_token(
    connection: Connection, session_id: uuid.UUID, refresh_token_hash: bytes, now: datetime
) -> None:
    """The new token replaces the current one, whose hash is kept to recognise its reuse."""
    await connection.execute(
        """
        UPDATE session SET previous_refresh_token_hash = refresh_token_hash,
                           refresh_token_hash = $2, refreshed_at = $3
        WHERE id = $1
        """,
        session_id,
        refresh_token_hash,
        now,
    )


async def session_by_previous_refresh_token(
    connection: Connection, refresh_token_hash: bytes
) -> SessionRow | None:
    """The session whose token was rotated away from this one (presented again: a reuse)."""
    row = await connection.fetchrow(
        """
        SELECT id, account_id, password_change_only, expires_at FROM session
        WHERE previous_refresh_token_hash = $1 FOR UPDATE
        """,
        refresh_token_hash,
    )
    return None if row is None else SessionRow(**dict(row))


async def delete_sessions(
    connection: Connection, account_ids: Iterable[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Delete the sessions of these accounts (K9: their data goes); returns (session, account)."""
    rows = await connection.fetch(
        "DELETE FROM session WHERE account_id = ANY($1::uuid[]) RETURNING id, account_id",
        list(account_ids),
    )
    return [(row["id"], row["account_id"]) for row in rows]


async def delete_session(connection: Connection, session_id: uuid.UUID) -> bool:
    status = await connection.execute("DELETE FROM session WHERE id = $1", session_id)
    return status.endswith(" 1")


async def flag_compromised(
    connection: Connection, account_id: uuid.UUID, *, by: uuid.UUID, reason: str, at: datetime
) -> None:
    """The next login may only set a new password (K7); the current one still opens it."""
    await connection.execute(
        """
        UPDATE account SET must_change_password = true, compromised_at = $2,
                           compromised_by = $3, compromise_reason = $4
        WHERE id = $1
        """,
        account_id,
        at,
        by,
        reason,
    )
