"""``kairos habilitations export ORG_ID``: an organisation's habilitations, with each holder's
last login and the ``unused`` flag (K15), as CSV or JSON, from the habilitation service;
``kairos habilitations flags`` lists the annual review's flags (K14) and ``kairos habilitations
demand`` answers them with a demand (K15)."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer

from kairos_cli.common import JsonOption, echo_json, fail, guarded
from kairos_cli.http import (
    DEFAULT_HABILITATION_URL,
    DEFAULT_IDENTITY_URL,
    HabilitationUrl,
    IdentityUrl,
    habilitation_request,
    parse_id,
)

app = typer.Typer(help="Habilitations of an organisation (operator).", no_args_is_help=True)


class Format(StrEnum):
    csv = "csv"
    json = "json"


class Which(StrEnum):
    live = "live"
    ended = "ended"
    all = "all"


@app.command()
@guarded
def export(
    organisation_id: Annotated[str, typer.Argument(help="The organisation's id (a UUID).")],
    *,
    output_format: Annotated[Format, typer.Option("--format", help="CSV or JSON.")] = Format.csv,
    status: Annotated[Which, typer.Option("--status", help="Which habilitations.")] = Which.live,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
    identity_url: IdentityUrl = DEFAULT_IDENTITY_URL,
    habilitation_url: HabilitationUrl = DEFAULT_HABILITATION_URL,
) -> None:
    """Export an organisation's habilitations (GET /v1/organisations/{id}/habilitations)."""
    organisation = _uuid(organisation_id, "an organisation id")
    response = habilitation_request(
        identity_url, habilitation_url, "GET", f"/v1/organisations/{organisation}/habilitations",
        200, params={"format": output_format.value, "status": status.value},
    )  # fmt: skip
    if output_format is Format.json:
        text = json.dumps(response.json(), ensure_ascii=False, indent=2) + "\n"
    else:
        text = response.text
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8", newline="")
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror or error}")
    if output_format is Format.json:
        count = len(response.json()["habilitations"])
    else:
        count = max(len(list(csv.reader(io.StringIO(text)))) - 1, 0)
    typer.echo(f"{count} habilitation(s) of {organisation} written to {output}", err=True)


def _uuid(value: str, what: str) -> UUID:
    return parse_id(value, what, example=False)


class FlagStatus(StrEnum):
    open = "open"
    all = "all"


@app.command()
@guarded
def flags(
    organisation: Annotated[
        str | None,
        typer.Option("--organisation", help="One organisation's id (default: every one)."),
    ] = None,
    status: Annotated[
        FlagStatus, typer.Option("--status", help="Open flags only, or all.")
    ] = FlagStatus.open,
    identity_url: IdentityUrl = DEFAULT_IDENTITY_URL,
    habilitation_url: HabilitationUrl = DEFAULT_HABILITATION_URL,
    as_json: JsonOption = False,
) -> None:
    """The habilitations the annual review flagged to the operators (K14), the longest waiting
    first: answer them with `kairos habilitations demand ORG_ID --flag FLAG_ID`."""
    path = "/v1/habilitation-flags"
    if organisation is not None:
        path = f"/v1/organisations/{_uuid(organisation, 'an organisation id')}/habilitation-flags"
    listing: dict[str, Any] = habilitation_request(
        identity_url, habilitation_url, "GET", path, 200, params={"status": status.value}
    ).json()
    if as_json:
        echo_json(listing)
        return
    for flag in listing["flags"]:
        demand = f" demand {flag['demand_id']}" if flag["demand_id"] else ""
        typer.echo(
            f"{flag['flag_id']}  {flag['status']:<8} {flag['flagged_at']}  "
            f"organisation {flag['organisation_id']}  {flag['first_name']} {flag['last_name']}"
            f" ({flag['function']}), habilitation {flag['habilitation_id']}{demand}"
        )
    typer.echo(f"{len(listing['flags'])} flag(s)", err=True)


@app.command()
@guarded
def demand(
    organisation_id: Annotated[str, typer.Argument(help="The organisation's id (a UUID).")],
    *,
    reason: Annotated[str, typer.Option("--reason", help="Why (told to the organisation).")],
    flag: Annotated[
        list[str] | None,
        typer.Option("--flag", help="An open flag this demand answers (repeatable)."),
    ] = None,
    habilitation: Annotated[
        list[str] | None,
        typer.Option("--habilitation", help="Another habilitation to end (repeatable)."),
    ] = None,
    identity_url: IdentityUrl = DEFAULT_IDENTITY_URL,
    habilitation_url: HabilitationUrl = DEFAULT_HABILITATION_URL,
    as_json: JsonOption = False,
) -> None:
    """Demand that the organisation end habilitations (K15), answering the review's flags."""
    organisation = _uuid(organisation_id, "an organisation id")
    body = {
        "kind": "end_habilitations",
        "reason": reason,
        "flag_ids": [str(_uuid(value, "a flag id")) for value in flag or []],
        "habilitation_ids": [
            str(_uuid(value, "a habilitation id")) for value in habilitation or []
        ],
    }
    issued: dict[str, Any] = habilitation_request(
        identity_url, habilitation_url, "POST", f"/v1/organisations/{organisation}/demands",
        201, json=body,
    ).json()  # fmt: skip
    if as_json:
        echo_json(issued)
        return
    typer.echo(
        f"demand {issued['demand_id']} issued to {organisation}: {len(issued['items'])} "
        f"habilitation(s) to end before {issued['deadline']}"
    )
