"""``kairos designations list|validate|reject``: the RGC designations organisations make (K10,
CGU §4.1: a successor on the same terms as the first RGC), decided by an operator through the
habilitation service; the validating operator retrieves the new account's provisional
credentials from the identity service, once, to hand them over."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

import httpx
import typer

from kairos_cli.common import JsonOption, echo_json, guarded, table
from kairos_cli.http import (
    DEFAULT_HABILITATION_URL,
    DEFAULT_IDENTITY_URL,
    HabilitationUrl,
    IdentityUrl,
    bearer,
    expect,
    habilitation_request,
    operator_token,
    parse_id,
    print_credentials,
    service_client,
)

app = typer.Typer(
    help="RGC designations waiting for an operator: list, validate, reject.",
    no_args_is_help=True,
)

DesignationId = Annotated[str, typer.Argument(help="The designation's id (a UUID).")]
OPENING_WAIT_SECONDS = 30.0
"""How long `validate` waits for the identity service to open the account."""


def _designation_id(value: str) -> uuid.UUID:
    return parse_id(value, "a designation id")


def _who(designation: dict[str, Any]) -> str:
    name = f"{designation['first_name']} {designation['last_name']} <{designation['email']}>"
    return f"head's account for {name}" if designation["account_role"] == "head" else name


@app.command("list")
@guarded
def list_(
    organisation_id: Annotated[
        str | None, typer.Option("--organisation", help="Only this organisation's (a UUID).")
    ] = None,
    identity_url: IdentityUrl = DEFAULT_IDENTITY_URL,
    habilitation_url: HabilitationUrl = DEFAULT_HABILITATION_URL,
    as_json: JsonOption = False,
) -> None:
    """The designations waiting for a decision, oldest first."""
    params = {} if organisation_id is None else {"organisation_id": organisation_id}
    pending: list[dict[str, Any]] = habilitation_request(
        identity_url, habilitation_url, "GET", "/v1/rgc-designations", 200, params=params
    ).json()
    if as_json:
        echo_json(pending)
        return
    rows = [
        [d["rgc_designation_id"], d["organisation_id"], _who(d), d["designated_at"],
         "the head" if d["requested_by"] else "request without an account"]
        for d in pending
    ]  # fmt: skip
    typer.echo(table(rows, ["designation", "organisation", "names", "requested at", "by"]))


def _credentials(identity: httpx.Client, token: str, designation: uuid.UUID) -> dict[str, Any]:
    """The account's provisional credentials, once the identity service has opened it."""
    url = f"/v1/rgc-designations/{designation}/provisional-credentials"
    deadline = time.monotonic() + OPENING_WAIT_SECONDS
    while True:
        response = identity.get(url, headers=bearer(token))
        if response.status_code != 404 or time.monotonic() > deadline:  # noqa: PLR2004
            credentials: dict[str, Any] = expect(response, 200).json()
            return credentials
        time.sleep(0.2)


@app.command()
@guarded
def validate(
    designation_id: DesignationId,
    identity_url: IdentityUrl = DEFAULT_IDENTITY_URL,
    habilitation_url: HabilitationUrl = DEFAULT_HABILITATION_URL,
    as_json: JsonOption = False,
) -> None:
    """Validate a designation: the account opens (a new RGC has 21 days to log in).

    Prints its login id and provisional password ONCE: hand them over yourself (never by
    e-mail), as for the first RGC.
    """
    designation = _designation_id(designation_id)
    with service_client("identity", identity_url) as identity:
        token = operator_token(identity)
        with service_client("habilitation", habilitation_url) as habilitation:
            response = habilitation.post(
                f"/v1/rgc-designations/{designation}/validation", headers=bearer(token)
            )
            validated: dict[str, Any] = expect(response, 200).json()
        issued = _credentials(identity, token, designation)
    if as_json:
        echo_json({"designation": validated, "credentials": issued})
        return
    typer.echo(f"designation {designation} validated: {_who(validated)}")
    print_credentials(issued, "account", "")


@app.command()
@guarded
def reject(
    designation_id: DesignationId,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (3 to 500 characters); e-mailed to the head.")
    ],
    identity_url: IdentityUrl = DEFAULT_IDENTITY_URL,
    habilitation_url: HabilitationUrl = DEFAULT_HABILITATION_URL,
    as_json: JsonOption = False,
) -> None:
    """Reject a designation, with the reason the head is told; the organisation may ask
    again."""
    designation = _designation_id(designation_id)
    rejected: dict[str, Any] = habilitation_request(
        identity_url, habilitation_url, "POST", f"/v1/rgc-designations/{designation}/rejection",
        200, json={"reason": reason},
    ).json()  # fmt: skip
    if as_json:
        echo_json(rejected)
        return
    typer.echo(f"designation {designation} rejected: {_who(rejected)}")
