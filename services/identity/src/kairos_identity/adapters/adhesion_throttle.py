"""The adhesion throttle table (asyncpg): requests per client address, shared by replicas."""

from __future__ import annotations

from datetime import datetime

from kairos_identity.domain.throttling import LoginThrottleState
from kairos_shared.db import Connection


async def locked_state(
    connection: Connection, client_address: str, now: datetime
) -> LoginThrottleState:
    """The address's recent requests, its row locked until the transaction ends (created
    empty first, so that two first requests at once also count one after the other)."""
    await connection.execute(
        "INSERT INTO adhesion_throttle VALUES ($1, 0, $2) ON CONFLICT DO NOTHING",
        client_address,
        now,
    )
    row = await connection.fetchrow(
        "SELECT requests, last_request_at FROM adhesion_throttle"
        " WHERE client_address = $1 FOR UPDATE",
        client_address,
    )
    assert row is not None
    return LoginThrottleState(row["requests"], row["last_request_at"])


async def record(connection: Connection, client_address: str, state: LoginThrottleState) -> None:
    assert state.last_failure_at is not None
    await connection.execute(
        """
        UPDATE adhesion_throttle SET requests = $2, last_request_at = $3
        WHERE client_address = $1
        """,
        client_address,
        state.consecutive_failures,
        state.last_failure_at,
    )


async def forget_before(connection: Connection, before: datetime) -> int:
    """Drop the addresses quiet since `before` (their count would start again anyway)."""
    result = await connection.execute(
        "DELETE FROM adhesion_throttle WHERE last_request_at < $1", before
    )
    return int(result.split()[-1])
