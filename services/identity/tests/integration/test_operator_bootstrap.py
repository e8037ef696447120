"""The first operator comes from the command line (its provisional password printed once), and
a password hashed with older argon2 parameters is rehashed at the next login."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from typing import Any

import asyncpg

from kairos_identity.adapters.password_hasher import Argon2idHasher

IdentityApi = Any  # the conftest's dataclass (test modules cannot import the conftest)


async def test_bootstrap_operator_prints_credentials_that_open_a_password_change(
    identity_api: IdentityApi, database_url: str
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kairos_identity", "bootstrap-operator",
        "--first-name", "Bastien", "--last-name", "Opérateur", "--email", "b.op@ft.example",
        env={**os.environ, "KAIROS_IDENTITY_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, _ = await process.communicate()
    assert process.returncode == 0
    text = stdout.decode()
    login_id = re.search(r"login id (\S+)", text)
    password = re.search(r"shown once\): (\S+)", text)
    assert login_id is not None
    assert password is not None
    assert login_id.group(1) == "boperateur"
    first = await identity_api.login(login_id.group(1), password.group(1))
    assert first.status_code == 201
    assert first.json()["password_change_required"] is True


async def test_a_hash_with_older_parameters_is_replaced_at_login(
    identity_api: IdentityApi, operator_token: str, database_url: str
) -> None:
    old = Argon2idHasher(memory_cost=4 * 1024, time_cost=1).hash("Opérateur de garde, bureau 42")
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE account SET password_hash = $1 WHERE login_id = 'operrin'", old
        )
        response = await identity_api.login("operrin", "Opérateur de garde, bureau 42")
        assert response.status_code == 201
        new = await connection.fetchval(
            "SELECT password_hash FROM account WHERE login_id = 'operrin'"
        )
    finally:
        await connection.close()
    assert new != old
    assert not identity_api.context.hasher.needs_rehash(new)
