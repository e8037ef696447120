"""``kairos habilitations export ORG_ID``: an organisation's habilitations, with each holder's
last login and the ``unused`` flag (K15), as CSV or JSON, from the habilitation service."""

from __future__ import annotations

import csv
import io
import json
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from kairos_cli.common import fail, guarded
from kairos_cli.http import (
    DEFAULT_HABILITATION_URL,
    DEFAULT_IDENTITY_URL,
    HabilitationUrl,
    IdentityUrl,
    bearer,
    expect,
    operator_token,
    service_client,
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
    try:
        organisation = uuid.UUID(organisation_id)
    except ValueError:
        fail(f"{organisation_id!r} is not an organisation id (a UUID)", 2)
    with service_client("identity", identity_url) as identity:
        token = operator_token(identity)
    with service_client("habilitation", habilitation_url) as habilitation:
        response = habilitation.get(
            f"/v1/organisations/{organisation}/habilitations",
            params={"format": output_format.value, "status": status.value},
            headers=bearer(token),
        )
        expect(response, 200)
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
