"""The habilitation flag table (asyncpg): the habilitations the annual review flagged to the
operators (K14), with their holder as the habilitation describes them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from kairos_shared.db import Connection


@dataclass(frozen=True)
class HabilitationFlag:
    id: uuid.UUID
    habilitation_id: uuid.UUID
    organisation_id: uuid.UUID
    campaign_id: uuid.UUID
    reason: str
    flagged_at: datetime
    demand_id: uuid.UUID | None
    first_name: str
    last_name: str
    role: str
    function: str
    habilitation_status: str

    @property
    def status(self) -> str:
        """open (waits for an operator), demanded (a demand answered it), or ended (the
        habilitation ended meanwhile: nothing left to do)."""
        if self.demand_id is not None:
            return "demanded"
        return "ended" if self.habilitation_status == "ended" else "open"


async def insert(
    connection: Connection,
    habilitation_id: uuid.UUID,
    organisation_id: uuid.UUID,
    campaign_id: uuid.UUID,
    flagged_at: datetime,
) -> None:
    await connection.execute(
        """
        INSERT INTO habilitation_flag (id, habilitation_id, organisation_id, campaign_id, reason,
                                       flagged_at)
        VALUES ($1, $2, $3, $4, 'annual_review_overdue', $5)
        ON CONFLICT (campaign_id, habilitation_id) DO NOTHING
        """,
        uuid.uuid4(), habilitation_id, organisation_id, campaign_id, flagged_at,
    )  # fmt: skip


_SELECT = """
    SELECT f.*, h.first_name, h.last_name, h.role, h.function, h.status AS habilitation_status
    FROM habilitation_flag f JOIN habilitation h ON h.id = f.habilitation_id
"""


def _flag(row: asyncpg.Record) -> HabilitationFlag:
    return HabilitationFlag(**{name: row[name] for name in HabilitationFlag.__dataclass_fields__})


async def listed(
    connection: Connection,
    *,
    organisation_id: uuid.UUID | None,
    open_only: bool,
    limit: int,
) -> list[HabilitationFlag]:
    """Flags, oldest first (the longest waiting first), of one organisation or of all."""
    rows = await connection.fetch(
        _SELECT
        + """
        WHERE ($1::uuid IS NULL OR f.organisation_id = $1)
          AND (NOT $2 OR (f.demand_id IS NULL AND h.status <> 'ended'))
        ORDER BY f.flagged_at, f.id
        LIMIT $3
        """,
        organisation_id,
        open_only,
        limit,
    )
    return [_flag(row) for row in rows]


async def for_update(
    connection: Connection, flag_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, HabilitationFlag]:
    rows = await connection.fetch(
        _SELECT + " WHERE f.id = ANY($1::uuid[]) FOR UPDATE OF f", list(flag_ids)
    )
    return {row["id"]: _flag(row) for row in rows}


async def answered(
    connection: Connection, flag_ids: Sequence[uuid.UUID], demand_id: uuid.UUID
) -> None:
    await connection.execute(
        "UPDATE habilitation_flag SET demand_id = $2 WHERE id = ANY($1::uuid[])",
        list(flag_ids),
        demand_id,
    )
