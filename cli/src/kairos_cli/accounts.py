"""``kairos account compromised ACCOUNT_ID --reason "…"``: an operator flags an account as
compromised (K7), through the identity service's HTTP API: its sessions end at once in every
service and its next login may only set a new password."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kairos_cli.common import JsonOption, echo_json, guarded
from kairos_cli.http import DEFAULT_IDENTITY_URL, IdentityUrl, identity_request, parse_id

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
    account = parse_id(account_id, "an account id")
    path = f"/v1/accounts/{account}/compromise"
    result: dict[str, Any] = identity_request(
        identity_url, "POST", path, 200, json={"reason": reason}
    ).json()
    if as_json:
        echo_json(result)
        return
    typer.echo(
        f"account {result['account_id']} flagged as compromised: "
        f"{result['sessions_ended']} session(s) ended; a new password is required at next login"
    )
