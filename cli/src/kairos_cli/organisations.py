"""``kairos organisation validate|reject|suspend|withdraw|reinstate ORG_ID``: the operator's
decisions on an adhesion and an organisation's access (K1-K3), through the identity service's
HTTP API."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kairos_cli.common import JsonOption, echo_json, guarded
from kairos_cli.http import (
    DEFAULT_IDENTITY_URL,
    IdentityUrl,
    identity_request,
    parse_id,
    print_credentials,
)

app = typer.Typer(
    help="Validate, reject, suspend, withdraw or reinstate an organisation (operator).",
    no_args_is_help=True,
)

OrganisationId = Annotated[str, typer.Argument(help="The organisation's id (a UUID).")]
Reason = Annotated[
    str, typer.Option("--reason", help="Why (3 to 500 characters); kept in the events.")
]


def _post(
    identity_url: str, organisation_id: str, step: str, body: dict[str, str] | None
) -> dict[str, Any]:
    organisation = parse_id(organisation_id, "an organisation id")
    path = f"/v1/organisations/{organisation}/{step}"
    result: dict[str, Any] = identity_request(
        identity_url, "POST", path, 200, 201, json=body
    ).json()
    return result


def _print_status(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        echo_json(result)
        return
    expires = result.get("access_expires_at") or "-"
    typer.echo(
        f"organisation {result['organisation_id']}: {result['status']} (access until {expires})"
    )


@app.command()
@guarded
def validate(
    organisation_id: OrganisationId,
    identity_url: IdentityUrl = DEFAULT_IDENTITY_URL,
    as_json: JsonOption = False,
) -> None:
    """Validate the adhesion (K2): 3 years of access, and the RGC's account.

    Prints the RGC's login id and provisional password ONCE: hand them over to the RGC
    (never by e-mail); they must be used within 21 days.
    """
    issued = _post(identity_url, organisation_id, "validation", None)
    if as_json:
        echo_json(issued)
        return
    typer.echo(f"organisation {organisation_id} validated: access open for 3 years")
    print_credentials(issued, "RGC account", "to the RGC ")


@app.command()
@guarded
def reject(
    organisation_id: OrganisationId,
    reason: Reason,
    identity_url: IdentityUrl = DEFAULT_IDENTITY_URL,
    as_json: JsonOption = False,
) -> None:
    """Reject a pending adhesion request (K1): the head who asked is e-mailed the reason; the
    SIRET may apply again."""
    _print_status(_post(identity_url, organisation_id, "rejection", {"reason": reason}), as_json)


@app.command()
@guarded
def suspend(
    organisation_id: OrganisationId,
    reason: Reason,
    identity_url: IdentityUrl = DEFAULT_IDENTITY_URL,
    as_json: JsonOption = False,
) -> None:
    """Suspend the organisation's access (K3): its sessions end at once."""
    _print_status(_post(identity_url, organisation_id, "suspension", {"reason": reason}), as_json)


@app.command()
@guarded
def withdraw(
    organisation_id: OrganisationId,
    reason: Reason,
    identity_url: IdentityUrl = DEFAULT_IDENTITY_URL,
    as_json: JsonOption = False,
) -> None:
    """Withdraw the organisation's access for good (K3)."""
    _print_status(_post(identity_url, organisation_id, "withdrawal", {"reason": reason}), as_json)


@app.command()
@guarded
def reinstate(
    organisation_id: OrganisationId,
    identity_url: IdentityUrl = DEFAULT_IDENTITY_URL,
    as_json: JsonOption = False,
) -> None:
    """Lift a suspension (K3)."""
    _print_status(_post(identity_url, organisation_id, "reinstatement", None), as_json)
