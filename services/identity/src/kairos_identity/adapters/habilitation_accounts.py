"""What the habilitation service's events change in the account table (asyncpg): accounts
opened for a habilitation or an RGC designation, ended or suspended with them (K10, K13, K14).
Each statement is idempotent: applied twice, it changes nothing more."""

from __future__ import annotations

import uuid
from datetime import datetime

from kairos_shared.db import Connection


async def habilitated_account(
    connection: Connection, habilitation_id: uuid.UUID
) -> uuid.UUID | None:
    """The account already opened for this habilitation, if any."""
    account_id: uuid.UUID | None = await connection.fetchval(
        "SELECT id FROM account WHERE habilitation_id = $1", habilitation_id
    )
    return account_id


async def disable_for_habilitation(
    connection: Connection, habilitation_id: uuid.UUID
) -> uuid.UUID | None:
    """Disable the account opened for this habilitation; its id, or None if there is none."""
    account_id: uuid.UUID | None = await connection.fetchval(
        "UPDATE account SET status = 'disabled' WHERE habilitation_id = $1 RETURNING id",
        habilitation_id,
    )
    return account_id


async def designated_rgc_account(
    connection: Connection, rgc_designation_id: uuid.UUID
) -> uuid.UUID | None:
    """The account already opened for this RGC designation, if any."""
    account_id: uuid.UUID | None = await connection.fetchval(
        "SELECT id FROM account WHERE rgc_designation_id = $1", rgc_designation_id
    )
    return account_id


async def rgc_status(
    connection: Connection, account_id: uuid.UUID, organisation_id: uuid.UUID
) -> str | None:
    """The status of the organisation's RGC account `account_id`, locked for the caller's
    transaction; None if the organisation has no such RGC account."""
    status: str | None = await connection.fetchval(
        """
        SELECT status FROM account
        WHERE id = $1 AND organisation_id = $2 AND role = 'rgc'
        FOR UPDATE
        """,
        account_id,
        organisation_id,
    )
    return status


async def keep_as_head(connection: Connection, account_id: uuid.UUID) -> None:
    """The account held both roles (K1): relieved as RGC, it remains the head's."""
    await connection.execute("UPDATE account SET role = 'head' WHERE id = $1", account_id)


async def disable(connection: Connection, account_id: uuid.UUID) -> None:
    await connection.execute("UPDATE account SET status = 'disabled' WHERE id = $1", account_id)


async def suspend_habilitation(
    connection: Connection, habilitation_id: uuid.UUID, suspended_at: datetime
) -> uuid.UUID | None:
    """Mark the holder of this habilitation suspended (the first suspension's time is kept);
    the account's id, or None if no account was opened for it."""
    account_id: uuid.UUID | None = await connection.fetchval(
        """
        UPDATE account SET habilitation_suspended_at = coalesce(habilitation_suspended_at, $2)
        WHERE habilitation_id = $1
        RETURNING id
        """,
        habilitation_id,
        suspended_at,
    )
    return account_id


async def reinstate_habilitation(
    connection: Connection, habilitation_id: uuid.UUID
) -> uuid.UUID | None:
    """Lift the suspension of this habilitation's holder; the account's id, or None."""
    account_id: uuid.UUID | None = await connection.fetchval(
        """
        UPDATE account SET habilitation_suspended_at = NULL
        WHERE habilitation_id = $1
        RETURNING id
        """,
        habilitation_id,
    )
    return account_id
