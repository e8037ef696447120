"""Versioned SQL migrations, applied at start-up.

A service keeps plain SQL files named ``NNNN_what_it_does.sql`` in its ``migrations/`` folder.
Each file is applied once, in its own transaction, in version order; the run holds a PostgreSQL
advisory lock so two replicas starting together apply each migration exactly once. A file that
changed after it was applied is an error (its checksum no longer matches), not a silent skip.

History is kept per *component*: the shared infrastructure tables (outbox, inbox) are versioned
as ``kairos_shared``, and each service's own tables under the service's name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from kairos_shared.db import Connection

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x4B41_4952  # "KAIR": one key per database, and each service has its own database


class MigrationError(RuntimeError):
    """A migration folder or the recorded history is inconsistent."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(folder: Path) -> list[Migration]:
    migrations: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path}: name must look like 0001_what_it_does.sql")
        migrations.append(Migration(int(match["version"]), match["name"], path.read_text()))
    versions = [migration.version for migration in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{folder}: two migrations share a version number")
    return migrations


async def apply_migrations(
    connection: Connection, folder: Path, *, component: str = "service"
) -> list[Migration]:
    """Apply what is not applied yet; returns the migrations this call applied."""
    migrations = load_migrations(folder)
    await connection.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                component text NOT NULL,
                version integer NOT NULL,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (component, version)
            )
            """
        )
        applied = {
            row["version"]: row["checksum"]
            for row in await connection.fetch(
                "SELECT version, checksum FROM schema_migrations WHERE component = $1", component
            )
        }
        done: list[Migration] = []
        for migration in migrations:
            recorded = applied.get(migration.version)
            if recorded is not None:
                if recorded != migration.checksum:
                    raise MigrationError(
                        f"migration {component}/{migration.version:04d}_{migration.name} changed "
                        "after it "
                        "was applied; add a new migration instead"
                    )
                continue
            async with connection.transaction():
                await connection.execute(migration.sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (component, version, name, checksum)"
                    " VALUES ($1, $2, $3, $4)",
                    component,
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            done.append(migration)
        return done
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
