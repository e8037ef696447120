"""The read_audit table (asyncpg): who read which trainee data, when (K22)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kairos_shared.db import Connection


@dataclass(frozen=True)
class Read:
    """One read of trainee data: by whom, in which organisation, what and how it was asked."""

    account_id: uuid.UUID
    organisation_id: uuid.UUID
    what: str
    at: datetime
    criteria: dict[str, Any] = field(default_factory=dict)


async def record(connection: Connection, read: Read, trainee_ids: Sequence[str | None]) -> None:
    """One audit row per trainee whose data the read returned (one row when none)."""
    trainees: list[str | None] = [*sorted({t for t in trainee_ids if t is not None})] or [None]
    await connection.executemany(
        """
        INSERT INTO read_audit (account_id, organisation_id, what, trainee_id, criteria,
                                rows_returned, read_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        [
            (read.account_id, read.organisation_id, read.what, trainee,
             json.dumps(read.criteria, default=str), len(trainee_ids), read.at)
            for trainee in trainees
        ],
    )  # fmt: skip
