"""The demand and demand item tables (asyncpg): operators' demands (K10, K15)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from kairos_shared.db import Connection

COMPLIED = """
    (i.justified_at IS NOT NULL
     OR (i.habilitation_id IS NOT NULL AND h.status = 'ended')
     OR (i.habilitation_id IS NULL AND p.rgc_account_id IS DISTINCT FROM i.rgc_account_id))
"""
"""SQL: an item the organisation complied with (aliases: i item, h habilitation, p RGC post)."""


@dataclass(frozen=True)
class StoredDemand:
    id: uuid.UUID
    organisation_id: uuid.UUID
    kind: str
    reason: str
    issued_by: uuid.UUID
    issued_at: datetime
    deadline: datetime
    settled_at: datetime | None = None


@dataclass(frozen=True)
class DemandItem:
    """One habilitation demanded ended, or the RGC demanded revoked, and how it stands now."""

    position: int
    habilitation_id: uuid.UUID | None
    rgc_account_id: uuid.UUID | None
    outcome: str | None = None
    justification: str | None = None
    justified_by: uuid.UUID | None = None
    justified_at: datetime | None = None
    habilitation_ended: bool = False
    rgc_in_office: bool = False

    @property
    def complied(self) -> str | None:
        """ "ended" or "justified" once the organisation complied, else None."""
        if self.habilitation_id is not None and self.habilitation_ended:
            return "ended"
        if self.habilitation_id is None and not self.rgc_in_office:
            return "ended"
        return "justified" if self.justified_at is not None else None


def _demand(row: asyncpg.Record) -> StoredDemand:
    return StoredDemand(**{name: row[name] for name in StoredDemand.__dataclass_fields__})


def _item(row: asyncpg.Record) -> DemandItem:
    return DemandItem(
        position=row["position"], habilitation_id=row["habilitation_id"],
        rgc_account_id=row["rgc_account_id"], outcome=row["outcome"],
        justification=row["justification"], justified_by=row["justified_by"],
        justified_at=row["justified_at"], habilitation_ended=row["status"] == "ended",
        rgc_in_office=row["rgc_in_office"],
    )  # fmt: skip


async def insert(connection: Connection, demand: StoredDemand, items: Sequence[DemandItem]) -> None:
    await connection.execute(
        """
        INSERT INTO demand (id, organisation_id, kind, reason, issued_by, issued_at, deadline)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        demand.id, demand.organisation_id, demand.kind, demand.reason, demand.issued_by,
        demand.issued_at, demand.deadline,
    )  # fmt: skip
    await connection.executemany(
        """
        INSERT INTO demand_item (demand_id, position, habilitation_id, rgc_account_id)
        VALUES ($1, $2, $3, $4)
        """,
        [(demand.id, i.position, i.habilitation_id, i.rgc_account_id) for i in items],
    )


async def get(
    connection: Connection, demand_id: uuid.UUID, *, for_update: bool = False
) -> StoredDemand | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await connection.fetchrow(
        f"SELECT * FROM demand WHERE id = $1{lock}",  # noqa: S608 - constant suffix
        demand_id,
    )
    return None if row is None else _demand(row)


async def of_organisation(
    connection: Connection, organisation_id: uuid.UUID, limit: int
) -> list[StoredDemand]:
    rows = await connection.fetch(
        """
        SELECT * FROM demand WHERE organisation_id = $1
        ORDER BY issued_at DESC, id DESC LIMIT $2
        """,
        organisation_id, limit,
    )  # fmt: skip
    return [_demand(row) for row in rows]


async def items(
    connection: Connection, demand_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[DemandItem]]:
    """The items of each demand, in order, with how their habilitation and RGC stand now."""
    rows = await connection.fetch(
        """
        SELECT i.*, h.status,
               (p.rgc_account_id IS NOT DISTINCT FROM i.rgc_account_id) AS rgc_in_office
        FROM demand_item i
        JOIN demand d ON d.id = i.demand_id
        LEFT JOIN habilitation h ON h.id = i.habilitation_id
        LEFT JOIN rgc_post p ON p.organisation_id = d.organisation_id
        WHERE i.demand_id = ANY($1::uuid[])
        ORDER BY i.demand_id, i.position
        """,
        list(demand_ids),
    )
    found: dict[uuid.UUID, list[DemandItem]] = {demand_id: [] for demand_id in demand_ids}
    for row in rows:
        found[row["demand_id"]].append(_item(row))
    return found


async def justify(
    connection: Connection,
    demand_id: uuid.UUID,
    position: int,
    justification: str,
    *,
    by: uuid.UUID,
    at: datetime,
) -> None:
    await connection.execute(
        """
        UPDATE demand_item SET justification = $3, justified_by = $4, justified_at = $5
        WHERE demand_id = $1 AND position = $2
        """,
        demand_id, position, justification, by, at,
    )  # fmt: skip


async def settle(
    connection: Connection,
    demand_id: uuid.UUID,
    outcomes: Sequence[tuple[int, str]],
    at: datetime,
) -> None:
    """Record each item's outcome (by position) and the demand settled at `at`."""
    await connection.executemany(
        "UPDATE demand_item SET outcome = $3 WHERE demand_id = $1 AND position = $2",
        [(demand_id, position, outcome) for position, outcome in outcomes],
    )
    await connection.execute("UPDATE demand SET settled_at = $2 WHERE id = $1", demand_id, at)


async def claim_due(
    connection: Connection, now: datetime, after: uuid.UUID | None, limit: int
) -> list[StoredDemand]:
    """Unsettled demands whose deadline came or whose items were all complied with, after
    `after` in id order; locked so that another replica's scheduler skips them."""
    rows = await connection.fetch(
        f"""
        SELECT d.* FROM demand d
        WHERE d.settled_at IS NULL AND ($2::uuid IS NULL OR d.id > $2)
          AND (d.deadline <= $1 OR NOT EXISTS (
                SELECT 1 FROM demand_item i
                LEFT JOIN habilitation h ON h.id = i.habilitation_id
                LEFT JOIN rgc_post p ON p.organisation_id = d.organisation_id
                WHERE i.demand_id = d.id AND NOT {COMPLIED}
              ))
        ORDER BY d.id
        LIMIT $3
        FOR UPDATE OF d SKIP LOCKED
        """,  # noqa: S608 - a constant SQL fragment, no input
        now, after, limit,
    )  # fmt: skip
    return [_demand(row) for row in rows]
