"""Provisional credentials after an account exists: the RGC retrieves a habilitated person's
once (K11), the operator who validated an RGC designation the account it opened (CGU §4.1), an
operator resets anyone's (K7). The password is generated at that moment and only its hash is
kept; the response is the one place it ever appears."""

from __future__ import annotations

import uuid

from kairos_identity.adapters import accounts, habilitation_accounts, organisations
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
    the account's own organisation hands a habilitated person's credentials over (K11); nobody
    their own. A designated RGC's (or head's) are the validating operator's to hand over."""
    handlers = credential_handlers(Role(account.role))
    allowed = claims.role in handlers and claims.organisation_id == str(account.organisation_id)
    if account.rgc_designation_id is not None or Role(account.role) is Role.RGC:
        raise Problem(
            status=403, title="Handed over by France Travail", type="forbidden",
            detail="an RGC's (or a designated head's) provisional credentials are handed over "
            "by the operator who validated the designation "
            "(GET /v1/rgc-designations/{id}/provisional-credentials)",
        )  # fmt: skip
    if not allowed or claims.account_id == str(account.id):
        raise Problem(
            status=403,
            title="Not your organisation's account",
            type="forbidden",
            detail="only the RGC (or head) of the account's organisation may retrieve its "
            "provisional credentials",
        )


async def _issue_once(
    context: IdentityContext, connection: Connection, account: AccountRow
) -> ProvisionalCredentials:
    """The account's provisional password, generated now and shown once (K6, K11). A
    habilitated person's (or head's) 7 days run from now, to the end of the last one in the
    organisation's zone; an RGC's 21 run from the validation or designation."""
    now = context.clock.now()
    if await accounts.credentials_retrieved_at(connection, account.id) is not None:
        raise Problem(
            status=409,
            title="Already retrieved",
            type="credentials-already-retrieved",
            detail="provisional credentials are shown once; an operator may reset the password "
            "(POST /v1/accounts/{id}/password-reset)",
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
        until = provisional_deadline(Role(account.role), now, context.provisional_validity, zone)
    password = new_provisional_password(
        context, account.login_id, (account.first_name, account.last_name)
    )
    await accounts.issue_provisional_password(
        connection, account.id, await context.hashing.hash(normalise_password(password)), now=now,
        provisional_until=until,
    )  # fmt: skip
    return ProvisionalCredentials(account.id, account.login_id, password, until)


async def retrieve_provisional_credentials(
    context: IdentityContext, claims: AccessClaims, account_id: uuid.UUID
) -> ProvisionalCredentials:
    """The credentials of a habilitated person (or head), shown once to the RGC or head who
    hands them over (K11)."""
    async with context.pool.acquire() as connection, connection.transaction():
        account = await _account(connection, account_id)
        _same_organisation_manager(claims, account)
        return await _issue_once(context, connection, account)


async def retrieve_designated_credentials(
    context: IdentityContext, operator: AccessClaims, designation_id: uuid.UUID
) -> ProvisionalCredentials:
    """The validating operator retrieves the provisional credentials of the account a
    designation opened, once, to hand them over as for the first RGC (K6, K10)."""
    async with context.pool.acquire() as connection, connection.transaction():
        account_id = await habilitation_accounts.designated_rgc_account(connection, designation_id)
        if account_id is None:
            raise Problem(
                status=404, title="Account not opened yet", type="not-found",
                detail=f"no account is open for designation {designation_id} yet: it opens "
                "within moments of the validation; try again",
                extensions={"retry_after_seconds": 1},
            )  # fmt: skip
        account = await _account(connection, account_id)
        if account.hand_over_by is None or str(account.hand_over_by) != operator.account_id:
            raise Problem(
                status=403, title="Not the validating operator", type="forbidden",
                detail="only the operator who validated the designation hands over its "
                "credentials",
            )  # fmt: skip
        return await _issue_once(context, connection, account)


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
            await context.hashing.hash(normalise_password(password)),
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
        password_hash = await context.hashing.hash(normalise_password(password))
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
