"""The client throttle table (asyncpg): requests per client address and scope (adhesion
requests, password checks), shared by replicas."""

from __future__ import annotations

from datetime import datetime

from kairos_identity.domain.throttling import LoginThrottleState
from kairos_shared.db import Connection

ADHESION = "adhesion"


async def locked_state(
    connection: Connection, client_address: str, now: datetime, scope: str = ADHESION
) -> LoginThrottleState:
    """The address's recent requests, its row locked until the transaction ends (created
    empty first, so that two first requests at once also count one after the other)."""
    await connection.execute(
        "INSERT INTO client_throttle (scope, client_address, requests, last_request_at)"
        " VALUES ($1, $2, 0, $3) ON CONFLICT DO NOTHING",
        scope,
        client_address,
        now,
    )
    row = await connection.fetchrow(
        "SELECT requests, last_request_at FROM client_throttle"
        " WHERE scope = $1 AND client_address = $2 FOR UPDATE",
        scope,
        client_address,
    )
    assert row is not None
    return LoginThrottleState(row["requests"], row["last_request_at"])


async def record(
    connection: Connection, client_address: str, state: LoginThrottleState, scope: str = ADHESION
) -> None:
    assert state.last_failure_at is not None
    await connection.execute(
        """
        UPDATE client_throttle SET requests = $3, last_request_at = $4
        WHERE scope = $1 AND client_address = $2
        """,
        scope,
        client_address,
        state.consecutive_failures,
        state.last_failure_at,
    )


async def forget_before(connection: Connection, before: datetime) -> int:
    """Drop the addresses quiet since `before` (their count would start again anyway, and a
    token bucket's would be full)."""
    result = await connection.execute(
        "DELETE FROM client_throttle WHERE last_request_at < $1", before
    )
    forgotten = int(result.split()[-1])
    result = await connection.execute(
        "DELETE FROM login_failures WHERE greatest(last_failure_at, last_success_at) < $1",
        before,
    )
    return forgotten + int(result.split()[-1])
