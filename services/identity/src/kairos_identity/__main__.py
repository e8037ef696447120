"""``python -m kairos_identity``: run the identity service until SIGINT or SIGTERM.

``python -m kairos_identity bootstrap-operator --first-name … --last-name … --email …`` creates
an operator account and prints its login id and provisional password, once: the operator must
replace it at first login (K6, K7).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass

import asyncpg

from kairos_identity.adapters.organisations import Contact
from kairos_identity.bootstrap import MIGRATIONS, create_app, identity_context
from kairos_identity.config import IdentitySettings
from kairos_identity.service_layer.account_opening import ProvisionalCredentials
from kairos_identity.service_layer.operators import create_operator
from kairos_shared.db import create_pool
from kairos_shared.migrations import apply_migrations
from kairos_shared.runtime import SHARED_MIGRATIONS, serve


@dataclass
class _OwnPool:
    pool: asyncpg.Pool

    def require_pool(self) -> asyncpg.Pool:
        return self.pool


async def bootstrap_operator(settings: IdentitySettings, person: Contact) -> ProvisionalCredentials:
    """Create an operator account in the database of ``settings`` (migrated first, so this works
    on a fresh database): its provisional credentials, to be shown once (K6, K7). Also used by
    ``kairos operator bootstrap``."""
    pool = await create_pool(settings.database_url.get_secret_value(), min_size=1, max_size=2)
    try:
        async with pool.acquire() as connection:
            await apply_migrations(connection, SHARED_MIGRATIONS, component="kairos_shared")
            await apply_migrations(connection, MIGRATIONS, component=settings.service_name)
        return await create_operator(identity_context(settings, _OwnPool(pool)), person)
    finally:
        await pool.close()


async def _bootstrap_operator(settings: IdentitySettings, person: Contact) -> None:
    credentials = await bootstrap_operator(settings, person)
    print(f"operator account created: login id {credentials.login_id}")  # noqa: T201 - CLI
    # Shown once, on the terminal of the person who bootstraps (K6): the purpose of this command.
    print(f"provisional password (shown once): {credentials.provisional_password}")  # noqa: T201 - CLI
    until = credentials.provisional_until
    assert until is not None  # an operator's password is issued at once, with its deadline
    print(f"replace it before {until.isoformat()}")  # noqa: T201 - CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kairos_identity")
    commands = parser.add_subparsers(dest="command")
    operator = commands.add_parser("bootstrap-operator", help="create an operator account")
    operator.add_argument("--first-name", required=True)
    operator.add_argument("--last-name", required=True)
    operator.add_argument("--email", required=True)
    args = parser.parse_args(argv)
    settings = IdentitySettings()
    if args.command == "bootstrap-operator":
        person = Contact(args.first_name, args.last_name, args.email)
        asyncio.run(_bootstrap_operator(settings, person))
        return 0
    serve(create_app(settings), settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
