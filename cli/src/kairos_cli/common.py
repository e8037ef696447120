"""What every command group shares: the services, failing clearly, Kafka options (the address,
and the security settings the services use), JSON output."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CoordinatorLoadInProgressError, GroupCoordinatorNotAvailableError
from pydantic import ValidationError

from kairos_shared.kafka_settings import KafkaSecuritySettings

SERVICES = ("identity", "habilitation", "declaration", "notification")
DEFAULT_KAFKA = "127.0.0.1:9092"
KAFKA_ENV = "KAIROS_KAFKA_BOOTSTRAP_SERVERS"
KAFKA_TIMEOUT_SECONDS = 30.0
"""How long a Kafka command may take to connect and answer before it gives up."""

_COORDINATOR_RETRIES = 20
T = TypeVar("T")
P = ParamSpec("P")

KafkaOption = Annotated[
    str,
    typer.Option(
        "--kafka",
        envvar=KAFKA_ENV,
        help="Kafka bootstrap servers, comma-separated host:port.",
        show_envvar=True,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]


class CliError(Exception):
    """A failure to report on stderr, in words, with the exit code to leave with."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def fail(message: str, exit_code: int = 1) -> NoReturn:
    """Stop the command: ``message`` on stderr and a non-zero exit code."""
    raise CliError(message, exit_code)


def kafka_security() -> KafkaSecuritySettings:
    """How the Kafka commands authenticate and encrypt: the services' own variables
    (``KAIROS_KAFKA_SECURITY_PROTOCOL``, ``KAIROS_KAFKA_SASL_USERNAME`` …, see .env.example),
    read from the environment; an operator gives the commands a principal of their own."""
    try:
        return KafkaSecuritySettings()
    except ValidationError as error:
        variables = {
            name: str(getattr(field.validation_alias, "choices", [name])[0])
            for name, field in KafkaSecuritySettings.model_fields.items()
        }
        problems = [
            f"  {variables.get(str(item['loc'][0]), item['loc'][0]) if item['loc'] else '?'}: "
            f"{item['msg']}"
            for item in error.errors()
        ]
        fail("the Kafka security settings are invalid:\n" + "\n".join(problems), 2)


def report(error: CliError) -> NoReturn:
    typer.echo(f"error: {error.message}", err=True)
    raise typer.Exit(error.exit_code)


def guarded(command: Callable[P, T]) -> Callable[P, T]:
    """A command whose :class:`CliError` is reported on stderr and becomes its exit code."""

    @functools.wraps(command)
    def guarded_command(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except CliError as error:
            report(error)

    return guarded_command


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run an async step of a (:func:`guarded`) command."""
    return asyncio.run(coroutine)


def echo_json(value: object) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def service_name(value: str) -> str:
    """``value`` if it names a service, else a clear failure listing them."""
    if value not in SERVICES:
        fail(f"unknown service {value!r}: expected one of {', '.join(SERVICES)}", 2)
    return value


def table(rows: list[list[str]], header: list[str]) -> str:
    """Rows aligned under their header, two spaces between columns."""
    widths = [
        max(len(str(row[column])) for row in [header, *rows]) for column in range(len(header))
    ]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines)


async def group_offsets(admin: AIOKafkaAdminClient, group: str) -> dict[Any, Any]:
    """A consumer group's committed offsets; waits while Kafka's group coordinator is not up
    yet (a fresh cluster creates its offsets topic on the first request)."""
    for _ in range(_COORDINATOR_RETRIES):
        try:
            offsets: dict[Any, Any] = await admin.list_consumer_group_offsets(group)
        except (GroupCoordinatorNotAvailableError, CoordinatorLoadInProgressError):
            await asyncio.sleep(0.5)
        else:
            return offsets
    last_try: dict[Any, Any] = await admin.list_consumer_group_offsets(group)
    return last_try
