"""Operator accounts: the first one is bootstrapped from the command line."""

from __future__ import annotations

from kairos_identity.adapters.organisations import Contact
from kairos_identity.domain.accounts import Role
from kairos_identity.service_layer.account_opening import ProvisionalCredentials, create_account
from kairos_identity.service_layer.context import IdentityContext


async def create_operator(context: IdentityContext, person: Contact) -> ProvisionalCredentials:
    """A France Travail operator's account, with provisional credentials shown once."""
    async with context.pool.acquire() as connection, connection.transaction():
        return await create_account(
            context, connection, person, Role.OPERATOR, organisation_id=None
        )
