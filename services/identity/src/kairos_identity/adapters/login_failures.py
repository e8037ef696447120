"""The login failures table (asyncpg): per (login id, client address), and per login id under
the address ``''``, for known and unknown login ids alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kairos_identity.domain.throttling import LoginThrottleState
from kairos_shared.db import Connection

ANY_ADDRESS = ""
_READ = (
    "SELECT failures, last_failure_at, last_success_at FROM login_failures"
    " WHERE login_id = $1 AND client_address = $2"
)
_LOCKED = _READ + " FOR UPDATE"


@dataclass(frozen=True, slots=True)
class LoginFailures:
    state: LoginThrottleState
    last_success_at: datetime | None = None


async def read(
    connection: Connection, login_id: str, client_address: str, *, lock: bool = False
) -> LoginFailures:
    """The row of this login id from this address (empty if none); locked when `lock` (it is
    created first, so that two failures at once count one after the other)."""
    if lock:
        await connection.execute(
            "INSERT INTO login_failures (login_id, client_address, failures)"
            " VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
            login_id,
            client_address,
        )
    row = await connection.fetchrow(_LOCKED if lock else _READ, login_id, client_address)
    if row is None:
        return LoginFailures(LoginThrottleState())
    return LoginFailures(
        LoginThrottleState(row["failures"], row["last_failure_at"]), row["last_success_at"]
    )


async def record_failure(
    connection: Connection, login_id: str, client_address: str, state: LoginThrottleState
) -> None:
    await connection.execute(
        """
        UPDATE login_failures SET failures = $3, last_failure_at = $4
        WHERE login_id = $1 AND client_address = $2
        """,
        login_id,
        client_address,
        state.consecutive_failures,
        state.last_failure_at,
    )


async def record_success(
    connection: Connection, login_id: str, client_address: str, at: datetime
) -> None:
    """Both counts start again; the address is remembered as one the login id succeeded from."""
    await connection.execute(
        """
        INSERT INTO login_failures AS f VALUES ($1, $2, 0, NULL, $3)
        ON CONFLICT (login_id, client_address) DO UPDATE
        SET failures = 0, last_failure_at = NULL, last_success_at = $3
        """,
        login_id,
        client_address,
        at,
    )
    await connection.execute(
        "UPDATE login_failures SET failures = 0, last_failure_at = NULL"
        " WHERE login_id = $1 AND client_address = $2",
        login_id,
        ANY_ADDRESS,
    )
