"""Migrations: applied once each, in order, even by two replicas starting together."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from kairos_shared.migrations import MigrationError, apply_migrations, load_migrations


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return folder


MIGRATIONS = {
    "0001_create_counter.sql": "CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL);",
    # Not idempotent on purpose: applying it twice would fail or count twice.
    "0002_seed_counter.sql": "INSERT INTO counter VALUES (1, 1); SELECT pg_sleep(0.2);",
    "0003_increment.sql": "UPDATE counter SET n = n + 1 WHERE id = 1;",
}


async def test_two_processes_migrating_together_apply_each_migration_once(
    database_url: str, tmp_path: Path
) -> None:
    folder = _write(tmp_path / "migrations", MIGRATIONS)
    first, second = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        applied = await asyncio.gather(
            apply_migrations(first, folder), apply_migrations(second, folder)
        )
        assert sorted(len(batch) for batch in applied) == [0, 3]
        assert await first.fetchval("SELECT n FROM counter WHERE id = 1") == 2
        versions = await first.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [row["version"] for row in versions] == [1, 2, 3]
        assert await apply_migrations(first, folder) == []
    finally:
        await first.close()
        await second.close()


async def test_failing_migration_rolls_back_and_is_not_recorded(
    database_url: str, tmp_path: Path
) -> None:
    folder = _write(
        tmp_path / "migrations",
        {
            "0001_ok.sql": "CREATE TABLE ok (id int);",
            "0002_broken.sql": "CREATE TABLE half (id int); SELECT * FROM missing_table;",
        },
    )
    connection = await asyncpg.connect(database_url)
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await apply_migrations(connection, folder)
        tables = await connection.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        assert {row["table_name"] for row in tables} == {"ok", "schema_migrations"}
        assert await connection.fetchval("SELECT max(version) FROM schema_migrations") == 1
    finally:
        await connection.close()


async def test_a_migration_edited_after_it_was_applied_is_refused(
    database_url: str, tmp_path: Path
) -> None:
    folder = _write(tmp_path / "migrations", {"0001_t.sql": "CREATE TABLE t (id int);"})
    connection = await asyncpg.connect(database_url)
    try:
        await apply_migrations(connection, folder)
        (folder / "0001_t.sql").write_text("CREATE TABLE t (id bigint);")
        with pytest.raises(MigrationError, match="0001_t changed after it was applied"):
            await apply_migrations(connection, folder)
    finally:
        await connection.close()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"1_short.sql": ""}, "name must look like 0001_what_it_does.sql"),
        ({"0001_a.sql": "", "0001_b.sql": ""}, "two migrations share a version number"),
    ],
)
def test_badly_named_migrations_are_refused(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    with pytest.raises(MigrationError, match=message):
        load_migrations(_write(tmp_path / "m", files))
