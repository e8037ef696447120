"""Calling the services' HTTP APIs as an operator: base URLs, the operator's token, problems.

Every request goes through :func:`make_client`: tests replace it to reach the apps in-process.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import httpx
import typer

from kairos_cli.common import fail

TOKEN_ENV = "KAIROS_OPERATOR_TOKEN"  # noqa: S105 - the name of a variable, not a secret
LOGIN_ID_ENV = "KAIROS_OPERATOR_LOGIN_ID"
PASSWORD_ENV = "KAIROS_OPERATOR_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
TIMEOUT_SECONDS = 30.0

IdentityUrl = Annotated[
    str,
    typer.Option(
        "--identity-url", envvar="KAIROS_IDENTITY_URL", show_envvar=True,
        help="The identity service's base URL.",
    ),
]  # fmt: skip
HabilitationUrl = Annotated[
    str,
    typer.Option(
        "--habilitation-url", envvar="KAIROS_HABILITATION_URL", show_envvar=True,
        help="The habilitation service's base URL.",
    ),
]  # fmt: skip
DEFAULT_IDENTITY_URL = "http://127.0.0.1:8001"
DEFAULT_HABILITATION_URL = "http://127.0.0.1:8002"


def make_client(base_url: str) -> httpx.Client:
    """The HTTP client for one service (tests replace this function)."""
    return httpx.Client(base_url=base_url, timeout=TIMEOUT_SECONDS)


@contextmanager
def service_client(service: str, base_url: str) -> Iterator[httpx.Client]:
    """A client of ``service`` at ``base_url``; an unreachable service is a clear failure."""
    with make_client(base_url.rstrip("/")) as client:
        try:
            yield client
        except httpx.TransportError as error:
            fail(
                f"cannot reach the {service} service at {base_url} ({type(error).__name__}: "
                f"{error}); is it running? (`kairos stack status`, or --{service}-url)"
            )


def describe_problem(response: httpx.Response) -> str:
    """An HTTP error in words: status, problem+json title, detail, each bad field, extras."""
    lines = [f"{response.request.method} {response.request.url.path}: HTTP {response.status_code}"]
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = response.text.strip()
        lines[0] += f" {response.reason_phrase}" + (f": {text[:500]}" if text else "")
        return "\n".join(lines)
    title, detail = body.get("title"), body.get("detail")
    if title:
        lines[0] += f" {title}"
    if detail and detail != title:
        lines.append(f"  {detail}")
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            lines.append(f"  - {error.get('field', '?')}: {error.get('message', '')}")
    known = {"type", "title", "status", "detail", "instance", "errors"}
    lines += [f"  {key}: {value}" for key, value in body.items() if key not in known]
    return "\n".join(lines)


def expect(response: httpx.Response, *statuses: int) -> httpx.Response:
    """``response`` when its status is one of ``statuses``, else a failure describing it."""
    if response.status_code not in statuses:
        fail(describe_problem(response))
    return response


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(identity: httpx.Client, login_id: str, password: str) -> dict[str, Any]:
    """``POST /v1/sessions``: the tokens, or a failure saying why the login was refused."""
    response = identity.post("/v1/sessions", json={"login_id": login_id, "password": password})
    tokens: dict[str, Any] = expect(response, 201).json()
    return tokens


def operator_token(identity: httpx.Client) -> str:
    """The operator's access token: ``KAIROS_OPERATOR_TOKEN``, or a login with
    ``KAIROS_OPERATOR_LOGIN_ID`` / ``KAIROS_OPERATOR_PASSWORD`` (prompted when unset)."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return token
    login_id = os.environ.get(LOGIN_ID_ENV) or typer.prompt("Operator login id", err=True)
    password = os.environ.get(PASSWORD_ENV) or typer.prompt("Password", hide_input=True, err=True)
    tokens = login(identity, login_id, password)
    if tokens.get("password_change_required"):
        fail(
            f"the account {login_id} still has its provisional password: replace it first "
            "with `kairos operator password`"
        )
    return str(tokens["access_token"])


def parse_id(value: str, what: str, *, example: bool = True) -> uuid.UUID:
    """``value`` as a UUID, or a failure (exit code 2) saying it is not ``what``."""
    try:
        return uuid.UUID(value)
    except ValueError:
        such_as = f" such as {uuid.UUID(int=0)}" if example else ""
        fail(f"{value!r} is not {what} (a UUID{such_as})", 2)


def identity_request(
    identity_url: str, method: str, path: str, *statuses: int, **kwargs: Any
) -> httpx.Response:
    """One call to the identity service as the operator; a status not in ``statuses`` fails."""
    with service_client("identity", identity_url) as identity:
        token = operator_token(identity)
        response = identity.request(method, path, headers=bearer(token), **kwargs)
        return expect(response, *statuses)


def habilitation_request(
    identity_url: str, habilitation_url: str, method: str, path: str, *statuses: int, **kwargs: Any
) -> httpx.Response:
    """One call to the habilitation service with the operator's token from the identity
    service; a status not in ``statuses`` fails."""
    with service_client("identity", identity_url) as identity:
        token = operator_token(identity)
    with service_client("habilitation", habilitation_url) as habilitation:
        response = habilitation.request(method, path, headers=bearer(token), **kwargs)
        return expect(response, *statuses)


def print_credentials(issued: dict[str, Any], account: str, to_whom: str) -> None:
    """Provisional credentials, printed once, to be handed over by hand (never by e-mail)."""
    typer.echo(f"{account}: login id {issued['login_id']}")
    typer.echo(f"provisional password (shown once): {issued['provisional_password']}")
    typer.echo(f"to be replaced before {issued['provisional_until']}")
    typer.echo(f"Hand these over {to_whom}yourself; no e-mail carries them.")
