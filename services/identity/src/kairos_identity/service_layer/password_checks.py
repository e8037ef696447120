"""What guards a password check (K8): request rates, then the failed-login throttle.

**Request rates.** ``POST /v1/sessions``, ``/v1/sessions/refresh`` and
``/v1/accounts/me/password`` draw from two token buckets: one per client address and one for
everyone. They are kept in PostgreSQL with the adhesion throttle's mechanism (one locked row per
address, shared by the replicas); a refused request checks nothing and says when to come back
(429 with ``Retry-After``). Known and unknown login ids draw alike: the buckets are drawn before
the login id is looked at.

**Failed logins.** They are counted per (login id, client address) and per login id, for
unknown login ids exactly as for known ones (no enumeration by a 429). The first count follows
the whole K8 rule: it slows down, then locks *that address* out of *that login id* for the lock
duration. The second only slows down (its waits never exceed the maximum delay), and does not
apply to an address the login id succeeded from recently: an attacker can lock out only
themselves, and cannot keep the owner out, whatever the rhythm of their attempts.
"""

from __future__ import annotations

import math
from datetime import datetime

from kairos_identity.adapters import adhesion_throttle, login_failures
from kairos_identity.adapters.login_failures import ANY_ADDRESS
from kairos_identity.domain.throttling import LoginThrottleState, ThrottleDecision
from kairos_identity.service_layer.context import IdentityContext
from kairos_shared.problems import Problem

PASSWORD_SCOPE = "password"  # noqa: S105 - a scope's name, not a password
"""The client throttle's scope of the requests that check a password or a refresh token."""
EVERYONE = "*"
"""The client address under which the global bucket is kept."""


def _seconds(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


async def admit(context: IdentityContext, client_address: str) -> None:
    """Draw one request from the address's bucket and from everyone's, or refuse it (429)."""
    now = context.clock.now()
    buckets = ((client_address, context.rate_per_address), (EVERYONE, context.rate_global))
    async with context.pool.acquire() as connection, connection.transaction():
        decisions = []
        for address, rate in buckets:  # always in this order: no deadlock between requests
            state = await adhesion_throttle.locked_state(connection, address, now, PASSWORD_SCOPE)
            decisions.append((address, rate.admit(state.last_failure_at, now)))
        refused = [decision.retry_after for _, decision in decisions if not decision.admitted]
        if not refused:
            for address, decision in decisions:
                await adhesion_throttle.record(
                    connection,
                    address,
                    LoginThrottleState(0, decision.arrival),
                    PASSWORD_SCOPE,
                )
            return
    retry_after = max(at for at in refused if at is not None)
    seconds = _seconds(retry_after, now)
    raise Problem(
        status=429,
        title="Too many requests",
        type="too-many-requests",
        detail=f"too many requests from this address or in all; try again in {seconds} s",
        extensions={"retry_after": retry_after.isoformat()},
        headers={"Retry-After": str(seconds)},
    )


async def refuse_if_throttled(context: IdentityContext, login_id: str, client_address: str) -> None:
    """Refuse (429) a password check for `login_id` from `client_address` that must wait."""
    now = context.clock.now()
    async with context.pool.acquire() as connection:
        here = await login_failures.read(connection, login_id, client_address)
        anywhere = await login_failures.read(connection, login_id, ANY_ADDRESS)
    decisions: list[ThrottleDecision] = [context.throttle.decide(here.state, now)]
    trusted = (
        here.last_success_at is not None
        and now - here.last_success_at < context.throttle.failure_memory
    )
    if not trusted:
        decisions.append(context.throttle.slow_down_only().decide(anywhere.state, now))
    refused = [d for d in decisions if not d.allowed and d.retry_after is not None]
    if not refused:
        return
    retry_after = max(d.retry_after for d in refused if d.retry_after is not None)
    seconds = _seconds(retry_after, now)
    raise Problem(
        status=429,
        title="Too many failed logins",
        type="login-throttled",
        detail=f"too many failed logins; try again in {seconds} s",
        extensions={
            "retry_after": retry_after.isoformat(),
            "locked": any(d.locked for d in refused),
        },
        headers={"Retry-After": str(seconds)},
    )


async def record_failure(context: IdentityContext, login_id: str, client_address: str) -> None:
    """Count a failed check of `login_id`'s password from `client_address`, in both counts."""
    now = context.clock.now()
    slow_down = context.throttle.slow_down_only()
    async with context.pool.acquire() as connection, connection.transaction():
        for address, policy in ((client_address, context.throttle), (ANY_ADDRESS, slow_down)):
            row = await login_failures.read(connection, login_id, address, lock=True)
            counted = policy.after_failure(row.state, now)
            await login_failures.record_failure(connection, login_id, address, counted)


async def record_success(context: IdentityContext, login_id: str, client_address: str) -> None:
    async with context.pool.acquire() as connection, connection.transaction():
        await login_failures.record_success(
            connection, login_id, client_address, context.clock.now()
        )
