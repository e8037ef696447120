"""Migrations: applied once each, in order, even by two replicas starting together."""

from __future__ import annotations

import asyncio
import sys
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


async def test_components_keep_separate_histories(database_url: str, tmp_path: Path) -> None:
    shared = _write(tmp_path / "shared", {"0001_shared.sql": "CREATE TABLE s (id int);"})
    service = _write(tmp_path / "service", {"0001_service.sql": "CREATE TABLE v (id int);"})
    connection = await asyncpg.connect(database_url)
    try:
        assert len(await apply_migrations(connection, shared, component="kairos_shared")) == 1
        assert len(await apply_migrations(connection, service, component="identity")) == 1
        rows = await connection.fetch(
            "SELECT component, version FROM schema_migrations ORDER BY component"
        )
        assert [(row["component"], row["version"]) for row in rows] == [
            ("identity", 1),
            ("kairos_shared", 1),
        ]
    finally:
        await connection.close()


async def test_a_migration_edited_after_it_was_applied_is_refused(
    database_url: str, tmp_path: Path
) -> None:
    folder = _write(tmp_path / "migrations", {"0001_t.sql": "CREATE TABLE t (id int);"})
    connection = await asyncpg.connect(database_url)
    try:
        await apply_migrations(connection, folder, component="identity")
        (folder / "0001_t.sql").write_text("CREATE TABLE t (id bigint);")
        with pytest.raises(MigrationError, match="identity/0001_t changed after it was applied"):
            await apply_migrations(connection, folder, component="identity")
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


_MIGRATE_IN_A_PROCESS = """
import asyncio, sys
from pathlib import Path
import asyncpg
from kairos_shared.migrations import apply_migrations

async def main() -> None:
    connection = await asyncpg.connect(sys.argv[1])
    try:
        applied = await apply_migrations(connection, Path(sys.argv[2]), component="identity")
        print(len(applied))
    finally:
        await connection.close()

asyncio.run(main())
"""


async def test_two_processes_starting_together_apply_each_migration_once(
    database_url: str, tmp_path: Path
) -> None:
    folder = _write(tmp_path / "migrations", MIGRATIONS)
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _MIGRATE_IN_A_PROCESS,
            database_url,
            str(folder),
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [await process.communicate() for process in processes]
    assert [process.returncode for process in processes] == [0, 0]
    assert sorted(int(stdout) for stdout, _ in outputs) == [0, 3]
    connection = await asyncpg.connect(database_url)
    try:
        assert await connection.fetchval("SELECT n FROM counter WHERE id = 1") == 2
    finally:
        await connection.close()
