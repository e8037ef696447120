"""``kairos reconcile``: read every service's database (read-only) and report where a
service's view of the others' events disagrees with the owner's state
(:mod:`kairos_cli.reconciliation`). Run it when the platform is quiet: after a load run, or
when ``kairos lag`` shows 0 everywhere. Exit 1 when anything disagrees."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import asyncpg
import typer

from kairos_cli.common import SERVICES, JsonOption, echo_json, fail, guarded, run, table
from kairos_cli.configuration import load_settings
from kairos_cli.reconciliation import Disagreement, Snapshot, disagreements

_QUERIES = {
    "identity_organisations": ("identity", "SELECT id, status FROM organisation"),
    "identity_accounts": (
        "identity",
        "SELECT id, organisation_id, habilitation_id, status, habilitation_suspended_at "
        "FROM account",
    ),
    "habilitation_organisations": ("habilitation", "SELECT id, status FROM organisation"),
    "habilitations": (
        "habilitation",
        "SELECT id, status, account_id, suspended_at FROM habilitation",
    ),
    "rgc_posts": (
        "habilitation",
        "SELECT organisation_id, rgc_account_id, head_account_id FROM rgc_post",
    ),
    "declaration_organisations": (
        "declaration",
        "SELECT organisation_id, status FROM organisation_access",
    ),
    "declarers": (
        "declaration",
        "SELECT habilitation_id, account_id, suspended, ended_at FROM declarer_habilitation",
    ),
    "rgc_terms": (
        "declaration",
        "SELECT account_id, organisation_id, took_office_at, vacated_at FROM rgc_term",
    ),
    "lapsed_accounts": (
        "declaration",  # lapsed unless credentials were reissued since (K6)
        "SELECT account_id FROM lapsed_account"
        " WHERE lapsed_at > coalesce(reissued_at, '-infinity')",
    ),
    "recipient_organisations": (
        "notification",
        "SELECT id, rgc_account_id, head_account_id FROM recipient_organisation",
    ),
    "recipient_habilitations": (
        "notification",
        "SELECT habilitation_id, account_id FROM recipient_habilitation",
    ),
}
_UNPUBLISHED = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
_OVERDUE = (
    "SELECT count(*) FROM notification WHERE status = 'queued' "
    "AND next_attempt_at < now() - make_interval(secs => $1)"
)


async def snapshot(dsns: Mapping[str, str], *, grace_seconds: float = 60.0) -> Snapshot:
    """Every service's rows, each database read in one read-only transaction."""
    rows: dict[str, list[asyncpg.Record]] = {}
    unpublished: dict[str, int] = {}
    overdue = 0
    for service in SERVICES:
        connection = await asyncpg.connect(dsns[service])
        try:
            async with connection.transaction(readonly=True, isolation="repeatable_read"):
                for name, (owner, query) in _QUERIES.items():
                    if owner == service:
                        rows[name] = await connection.fetch(query)
                unpublished[service] = int(await connection.fetchval(_UNPUBLISHED))
                if service == "notification":
                    overdue = int(await connection.fetchval(_OVERDUE, grace_seconds))
        finally:
            await connection.close()
    tables: dict[str, Any] = {name: [dict(row) for row in found] for name, found in rows.items()}
    return Snapshot(**tables, unpublished=unpublished, overdue_emails=overdue)


async def reconcile_databases(
    dsns: Mapping[str, str], *, grace_seconds: float = 60.0
) -> list[Disagreement]:
    return disagreements(await snapshot(dsns, grace_seconds=grace_seconds))


def _database_urls() -> dict[str, str]:
    urls = {}
    for service in SERVICES:
        url = getattr(load_settings(service), "database_url", None)
        if url is None:
            fail(f"{service}: no database URL in its settings")
        urls[service] = url.get_secret_value()
    return urls


@guarded
def reconcile(
    as_json: JsonOption = False,
    grace_seconds: Annotated[
        float, typer.Option(help="an e-mail queued this long past its time counts as stuck")
    ] = 60.0,
) -> None:
    """Check that every service's view of the others agrees with the owner's state."""
    found = run(reconcile_databases(_database_urls(), grace_seconds=grace_seconds))
    if as_json:
        echo_json([{"check": d.check, "subject": d.subject, "detail": d.detail} for d in found])
    elif found:
        typer.echo(table([[d.check, d.subject, d.detail] for d in found],
                         ["check", "subject", "detail"]))  # fmt: skip
    else:
        typer.echo("the four services agree")
    if found:
        raise typer.Exit(1)
