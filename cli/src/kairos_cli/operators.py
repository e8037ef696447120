"""``kairos operator bootstrap|password``: the first operator account, and replacing a
provisional password (K6, K7)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from kairos_cli.common import fail, guarded, run
from kairos_cli.http import (
    DEFAULT_IDENTITY_URL,
    LOGIN_ID_ENV,
    IdentityUrl,
    bearer,
    expect,
    login,
    service_client,
)

app = typer.Typer(help="Operator accounts.", no_args_is_help=True)


@app.command()
@guarded
def bootstrap(
    first_name: Annotated[str, typer.Option("--first-name", help="The operator's first name.")],
    last_name: Annotated[str, typer.Option("--last-name", help="The operator's last name.")],
    email: Annotated[str, typer.Option("--email", help="The operator's e-mail address.")],
) -> None:
    """Create an operator account directly in the identity database (the first operator).

    The database is KAIROS_IDENTITY_DATABASE_URL (as the identity service reads it); its
    migrations are applied first. Prints the login id and the provisional password ONCE:
    replace it with `kairos operator password` before using the other commands.
    """
    # The identity service's modules are only needed here: imported when used.
    import asyncpg  # noqa: PLC0415 - only here

    from kairos_cli.configuration import load_settings  # noqa: PLC0415 - avoids a cycle
    from kairos_identity.__main__ import bootstrap_operator  # noqa: PLC0415 - heavy, only here
    from kairos_identity.adapters.organisations import Contact  # noqa: PLC0415 - only here
    from kairos_identity.config import IdentitySettings  # noqa: PLC0415 - only here

    settings = load_settings("identity")
    assert isinstance(settings, IdentitySettings)
    try:
        issued = run(bootstrap_operator(settings, Contact(first_name, last_name, email)))
    except (OSError, asyncpg.PostgresError) as error:
        fail(
            f"cannot reach the identity database (KAIROS_IDENTITY_DATABASE_URL): "
            f"{type(error).__name__}: {error}"
        )
    typer.echo(f"operator account created: login id {issued.login_id}")
    # Shown once, to the person who bootstraps (K6): the purpose of this command.
    typer.echo(f"provisional password (shown once): {issued.provisional_password}")
    if issued.provisional_until is not None:  # always, for credentials issued at once (K6)
        typer.echo(f"replace it before {issued.provisional_until.isoformat()}")


@app.command()
@guarded
def password(
    login_id: Annotated[
        str | None,
        typer.Option("--login-id", help=f"The account's login id (default: ${LOGIN_ID_ENV})."),
    ] = None,
    identity_url: IdentityUrl = DEFAULT_IDENTITY_URL,
) -> None:
    """Replace an account's password (the provisional one first): prompted, never echoed.

    At least 15 characters, not a common or breached password; the account's sessions end:
    log in again with the new one.
    """
    login_id = login_id or os.environ.get(LOGIN_ID_ENV) or typer.prompt("Login id", err=True)
    current = typer.prompt("Current (or provisional) password", hide_input=True, err=True)
    new = typer.prompt("New password", hide_input=True, confirmation_prompt=True, err=True)
    with service_client("identity", identity_url) as identity:
        tokens = login(identity, login_id, current)
        response = identity.post(
            "/v1/accounts/me/password",
            json={"current_password": current, "new_password": new},
            headers=bearer(str(tokens["access_token"])),
        )
        expect(response, 204)
    typer.echo(f"password of {login_id} replaced; log in again with the new one")
