"""``kairos account compromised ACCOUNT_ID --reason "…"``: an operator flags an account as
compromised (K7), through the identity service's HTTP API: its sessions end at once in every
service and its next login may only set a new password."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer

from kairos_cli.common import JsonOption, echo_json, fail, guarded
from kairos_cli.http import (
    DEFAULT_IDENTITY_URL,
    IdentityUrl,
    bearer,
    expect,
    operator_token,
    service_client,
)

app = typer.Typer(help="People's accounts (operator).", no_args_is_help=True)


@app.command()
@guarded
def compromised(
    account_id: Annotated[str, typer.Argument(help="The account's id (a UUID).")],
    reason: Annotated[
        str, typer.Option("--reason", help="The evidence (3 to 500 characters); kept.")
    ],
    identity_url: IdentityUrl = DEFAULT_IDENTITY_URL,
    as_json: JsonOption = False,
) -> None:
    """Flag an account as compromised (K7): its sessions end at once, everywhere, and its next
    login may only set a new password. If the password itself may be known to an attacker,
    reset it instead (new provisional credentials, handed over)."""
    try:
        account = uuid.UUID(account_id)
    except ValueError:
        fail(f"{account_id!r} is not an account id (a UUID such as {uuid.UUID(int=0)})", 2)
    with service_client("identity", identity_url) as identity:
        token = operator_token(identity)
        response = identity.post(
            f"/v1/accounts/{account}/compromise", json={"reason": reason}, headers=bearer(token)
        )
        result: dict[str, Any] = expect(response, 200).json()
    if as_json:
        echo_json(result)
        return
    typer.echo(
        f"account {result['account_id']} flagged as compromised: "
        f"{result['sessions_ended']} session(s) ended; a new password is required at next login"
    )
