"""The PostgreSQL fixture is a real server and every test gets a database of its own."""

from __future__ import annotations

import asyncpg
import pytest


@pytest.mark.parametrize("attempt", [1, 2])
async def test_each_test_gets_a_fresh_empty_database(database_url: str, attempt: int) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        tables = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
        assert tables == 0, "a previous test's table leaked into this database"
        await connection.execute("CREATE TABLE leak_check (id int PRIMARY KEY)")
        async with connection.transaction():
            await connection.execute("INSERT INTO leak_check VALUES (1)")
        assert await connection.fetchval("SELECT count(*) FROM leak_check") == 1
        version = await connection.fetchval("SHOW server_version_num")
        assert int(version) >= 150000
    finally:
        await connection.close()
