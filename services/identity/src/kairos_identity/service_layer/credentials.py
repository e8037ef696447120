"""Provisional credentials after an account exists: the RGC retrieves a habilitated person's
once (K11), the head a designated RGC's (CGU §4.1), an operator resets anyone's (K7). The
password is generated at that moment and only its hash is kept; the response is the one place
it ever appears."""

from __future__ import annotations

import uuid

from kairos_identity.adapters import accounts, organisations
from kairos_identity.adapters.accounts import AccountRow
from kairos_identity.domain.accounts import Role, credential_handlers, provisional_deadline
from kairos_identity.domain.passwords import normalise_password
from kairos_identity.service_layer.account_opening import (
    ProvisionalCredentials,
    new_provisional_password,
)
from kairos_identity.service_layer.context import SOURCE, IdentityContext
from kairos_identity.service_layer.sessions import end_sessions
from kairos_schemas import identity as events
from kairos_shared import outbox
from kairos_shared.db import Connection
from kairos_shared.problems import Problem
from kairos_shared.tokens import AccessClaims


async def _account(connection: Connection, account_id: uuid.UUID) -> AccountRow:
    account = await accounts.by_id(connection, account_id)
    if account is None:
        raise Problem(
            status=404, title="No such account", detail=f"no account {account_id}", type="not-found"
        )
    return account


def _same_organisation_manager(claims: AccessClaims, account: AccountRow) -> None:
    """Only the RGC (or the head, who holds the RGC's rights while the post is vacant, K10) of
    the account's own organisation hands credentials over (K11); an RGC's, the head alone
    (CGU §4.1); nobody their own."""
    handlers = credential_handlers(Role(account.role))
    allowed = claims.role in handlers and claims.organisation_id == str(account.organisation_id)
    if not allowed or claims.account_id == str(account.id):
        who = "the head" if handlers == {Role.HEAD} else "the RGC (or head)"
        raise Problem(
            status=403,
            title="Not your organisation's account",
            type="forbidden",
            detail=f"only {who} of the account's organisation may retrieve its provisional "
            "credentials",
        )


async def retrieve_provisional_credentials(
    context: IdentityContext, claims: AccessClaims, account_id: uuid.UUID
) -> ProvisionalCredentials:
    """The credentials, shown once to whoever hands them over (K11). A habilitated person's 7
    days run from now, to the end of the last one in the organisation's zone; an RGC's 21 run
    from the designation (K6)."""
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        account = await _account(connection, account_id)
        _same_organisation_manager(claims, account)
        if await accounts.credentials_retrieved_at(connection, account.id) is not None:
            raise Problem(
                status=409,
                title="Already retrieved",
                type="credentials-already-retrieved",
                detail="provisional credentials are shown once; ask an operator for a reset",
            )
        if account.status != "provisional":
            raise Problem(
                status=409,
                title="No provisional credentials",
                type="invalid-state",
                detail=f"the account is {account.status}",
            )
        until = account.provisional_until
        if until is None or Role(account.role) is not Role.RGC:  # a user's 7 days start now
            zone = await organisations.zone_of(connection, account.organisation_id)
            until = provisional_deadline(
                Role(account.role), now, context.provisional_validity, zone
            )
        password = new_provisional_password(
            context, account.login_id, (account.first_name, account.last_name)
        )
        await accounts.issue_provisional_password(
            connection, account.id, context.hasher.hash(normalise_password(password)), now=now,
            provisional_until=until,
        )  # fmt: skip
    return ProvisionalCredentials(account.id, account.login_id, password, until)


async def reset_password(
    context: IdentityContext, operator: AccessClaims, account_id: uuid.UUID
) -> ProvisionalCredentials:
    """New provisional credentials (K7), valid on the same terms as the first ones; the
    account's sessions end."""
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        account = await _account(connection, account_id)
        if account.status in {"lapsed", "disabled"}:
            raise Problem(
                status=409,
                title="Account closed",
                type="invalid-state",
                detail=f"the account is {account.status}: it cannot be reset",
            )
        role = Role(account.role)
        zone = await organisations.zone_of(connection, account.organisation_id)
        until = provisional_deadline(role, now, context.provisional_validity, zone)
        password = new_provisional_password(
            context, account.login_id, (account.first_name, account.last_name)
        )
        await accounts.issue_provisional_password(
            connection,
            account.id,
            context.hasher.hash(normalise_password(password)),
            now=now,
            provisional_until=until,
        )
        org = None if account.organisation_id is None else str(account.organisation_id)
        reset = events.PasswordResetByOperator(
            account_id=str(account.id),
            organisation_id=org,
            role=role.value,
            reset_at=now,
            reset_by=operator.account_id,
            provisional_until=until,
        )
        await outbox.publish(connection, [reset], source=SOURCE)
        await end_sessions(
            connection, [account.id], reason="password_reset", now=now, organisation_id=org
        )
    return ProvisionalCredentials(account.id, account.login_id, password, until)


async def reissue_lapsed_credentials(
    context: IdentityContext, claims: AccessClaims, account_id: uuid.UUID
) -> ProvisionalCredentials:
    """New provisional credentials for a person whose first ones lapsed unused (K6) while the
    habilitation is still active (an ended one disables the account): shown once to the RGC
    (or head while the post is vacant) who hands them over, valid 7 days again from now, to
    the end of the last one in the organisation's zone. The account is provisional again and a
    ``ProvisionalCredentialsReissued`` event lifts the lapse in the other services."""
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        account = await _account(connection, account_id)
        _same_organisation_manager(claims, account)
        role = Role(account.role)
        if role is Role.RGC:
            raise Problem(
                status=409, title="An RGC is designated anew", type="invalid-state",
                detail="a lapsed RGC's post is vacant: the head designates an RGC (PUT"
                f" /v1/organisations/{account.organisation_id}/rgc), who gets a new account",
            )  # fmt: skip
        zone = await organisations.zone_of(connection, account.organisation_id)
        until = provisional_deadline(role, now, context.provisional_validity, zone)
        password = new_provisional_password(
            context, account.login_id, (account.first_name, account.last_name)
        )
        password_hash = context.hasher.hash(normalise_password(password))
        if not await accounts.reissue_lapsed(connection, account.id, password_hash, now, until):
            raise Problem(
                status=409, title="Not lapsed", type="invalid-state",
                detail=f"the account is {account.status}: only credentials that lapsed unused"
                " are reissued (a disabled account's habilitation has ended)",
            )  # fmt: skip
        org = None if account.organisation_id is None else str(account.organisation_id)
        reissued = events.ProvisionalCredentialsReissued(
            account_id=str(account.id), organisation_id=org, role=role.value, reissued_at=now,
            reissued_by=claims.account_id, provisional_until=until,
        )  # fmt: skip
        await outbox.publish(connection, [reissued], source=SOURCE)
    return ProvisionalCredentials(account.id, account.login_id, password, until)
