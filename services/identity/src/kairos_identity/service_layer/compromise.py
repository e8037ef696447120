"""Evidence of compromise (K7): an operator flags an account as compromised. Its sessions end
at once (one ``SessionEnded`` each, as a logout: every service refuses their tokens) and its
next login may only set a new password, which must differ from the current one. When the
password itself may be in an attacker's hands, an operator reset (new provisional credentials
handed over) also invalidates it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kairos_identity.adapters import accounts
from kairos_identity.domain.accounts import AccountStatus, has_ended
from kairos_identity.service_layer.context import SOURCE, IdentityContext
from kairos_identity.service_layer.sessions import end_sessions
from kairos_schemas import identity as events
from kairos_shared import outbox
from kairos_shared.problems import Problem
from kairos_shared.tokens import AccessClaims


@dataclass(frozen=True)
class CompromiseFlagged:
    account_id: uuid.UUID
    sessions_ended: int


async def flag_compromised(
    context: IdentityContext, operator: AccessClaims, account_id: uuid.UUID, reason: str
) -> CompromiseFlagged:
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        account = await accounts.by_id(connection, account_id)
        if account is None:
            raise Problem(status=404, title="No such account", type="not-found",
                          detail=f"no account {account_id}")  # fmt: skip
        if has_ended(AccountStatus(account.status)):
            raise Problem(
                status=409, title="Account closed", type="invalid-state",
                detail=f"the account is {account.status}: nobody can log in with it any more",
            )  # fmt: skip
        await accounts.flag_compromised(
            connection, account.id, by=uuid.UUID(operator.account_id), reason=reason, at=now
        )
        org = None if account.organisation_id is None else str(account.organisation_id)
        flagged = events.AccountFlaggedCompromised(
            account_id=str(account.id), organisation_id=org, role=account.role, reason=reason,
            flagged_at=now, flagged_by=operator.account_id,
        )  # fmt: skip
        await outbox.publish(connection, [flagged], source=SOURCE)
        ended = await end_sessions(
            connection, [account.id], reason="account_compromised", now=now, organisation_id=org
        )
    return CompromiseFlagged(account.id, ended)
