"""``kairos outbox parked SERVICE``: the outbox rows Kafka refused for their size or content,
which the relay moved to the service's ``outbox_parked`` table (see :mod:`kairos_shared.relay`).

Read from the service's database (``KAIROS_<SERVICE>_DATABASE_URL``, as the service reads it).
"""

from __future__ import annotations

import asyncpg
import typer

from kairos_cli.common import JsonOption, echo_json, fail, guarded, run, service_name, table
from kairos_shared.relay import list_parked

app = typer.Typer(help="The transactional outbox of a service.", no_args_is_help=True)


async def read_parked(dsn: str) -> list[dict[str, object]]:
    connection = await asyncpg.connect(dsn)
    try:
        return await list_parked(connection)
    finally:
        await connection.close()


@app.command("parked")
@guarded
def parked(service: str, as_json: JsonOption = False) -> None:
    """List the service's parked outbox rows: which event, its topic and key, its size, when it
    was parked and why Kafka refused it. They are never retried: fix the cause, then delete or
    re-queue each row by hand."""
    from kairos_cli.configuration import load_settings  # noqa: PLC0415 - avoids a cycle

    service = service_name(service)
    dsn = load_settings(service).database_url.get_secret_value()  # type: ignore[attr-defined]
    try:
        rows = run(read_parked(dsn))
    except (OSError, asyncpg.PostgresError) as error:
        fail(f"cannot read the {service} database: {type(error).__name__}: {error}")
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo(f"no parked outbox row in {service}")
        return
    lines = [
        [
            str(row["id"]), str(row["event_id"]), str(row["topic"]), str(row["key"]),
            str(row["size_bytes"]), str(row["parked_at"]), str(row["reason"])[:80],
        ]
        for row in rows
    ]  # fmt: skip
    typer.echo(table(lines, ["id", "event", "topic", "key", "bytes", "parked at", "reason"]))
