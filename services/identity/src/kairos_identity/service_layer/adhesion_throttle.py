"""Adhesion requests are throttled per client address (K1): the login throttle's rule (K8),
its state kept in PostgreSQL so that every replica counts the same requests. A refused request
changes nothing and says when to come back (429 with ``Retry-After``)."""

from __future__ import annotations

import math
from datetime import timedelta

from kairos_identity.adapters import adhesion_throttle
from kairos_identity.service_layer.context import IdentityContext
from kairos_shared.problems import Problem


async def admit(context: IdentityContext, client_address: str) -> None:
    """Count one adhesion request from `client_address`, or refuse it (429) while the address
    must wait; committed at once, whatever becomes of the request."""
    now = context.clock.now()
    policy = context.adhesion_throttle
    async with context.pool.acquire() as connection, connection.transaction():
        state = await adhesion_throttle.locked_state(connection, client_address, now)
        decision = policy.decide(state, now)
        if decision.allowed:
            counted = policy.after_failure(state, now)
            await adhesion_throttle.record(connection, client_address, counted)
            return
    assert decision.retry_after is not None
    seconds = max(1, math.ceil((decision.retry_after - now).total_seconds()))
    raise Problem(
        status=429,
        title="Too many adhesion requests",
        type="adhesion-throttled",
        detail=f"too many adhesion requests from this address; try again in {seconds} s",
        extensions={"retry_after": decision.retry_after.isoformat()},
        headers={"Retry-After": str(seconds)},
    )


async def forget_quiet_addresses(context: IdentityContext) -> int:
    """Drop the addresses whose count has started again anyway (memory stays bounded)."""
    before = context.clock.now() - max(context.adhesion_throttle.failure_memory, timedelta(days=1))
    async with context.pool.acquire() as connection:
        return await adhesion_throttle.forget_before(connection, before)
