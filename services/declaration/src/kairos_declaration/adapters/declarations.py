"""The declaration tables (asyncpg): every version kept (K20), the current one indexed for the
rules (K19) and the queries (K22)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from kairos_shared.db import Connection


class DuplicateDeclarationError(Exception):
    """A second live entry for a trainee and session, or statement for a month (K19)."""

    def __init__(self, constraint: str | None) -> None:
        super().__init__(constraint)
        self.constraint = constraint


@dataclass(frozen=True)
class DeclarationVersion:
    declaration_id: uuid.UUID
    version: int
    organisation_id: uuid.UUID
    kind: str
    action_number: str
    session_number: str
    trainee_id: str | None
    payload: dict[str, Any]
    cancelled: bool
    reason: str | None
    declared_by: uuid.UUID
    declared_at: datetime
    due_by: date
    late: bool
    attendance_month: date | None = None
    first_declared_at: datetime | None = None
    """When the declaration's first version was declared: what `late` is judged on (K18)."""

    @property
    def judged_at(self) -> datetime:
        """The instant the version's lateness is judged on: its first version's (K18)."""
        return self.first_declared_at or self.declared_at


_COLUMNS = (
    "declaration_id, version, organisation_id, kind, action_number, session_number, trainee_id, "
    "payload, cancelled, reason, declared_by, declared_at, due_by, late"
)


def _version(row: asyncpg.Record) -> DeclarationVersion:
    values = dict(row)
    values["payload"] = json.loads(values["payload"])
    return DeclarationVersion(**values)


_RECORD = f"""
    WITH version AS (
        INSERT INTO declaration_version ({_COLUMNS})
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
    )
    INSERT INTO declaration (declaration_id, current_version, organisation_id, kind,
                             action_number, session_number, trainee_id, attendance_month, live,
                             first_declared_at, last_changed_at, late)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $15, $16, $12, $12, $14)
    ON CONFLICT (declaration_id) DO UPDATE
    SET current_version = EXCLUDED.current_version, live = EXCLUDED.live,
        attendance_month = EXCLUDED.attendance_month,
        last_changed_at = EXCLUDED.last_changed_at, late = EXCLUDED.late
"""  # noqa: S608 - constant column list
"""Both rows in one statement (one round trip): the version, and the declaration made to point
at it (the foreign key is checked at the statement's end, once both are in)."""


def _record_arguments(version: DeclarationVersion) -> tuple[Any, ...]:
    return (
        version.declaration_id, version.version, version.organisation_id, version.kind,
        version.action_number, version.session_number, version.trainee_id,
        json.dumps(version.payload), version.cancelled, version.reason, version.declared_by,
        version.declared_at, version.due_by, version.late, version.attendance_month,
        not version.cancelled,
    )  # fmt: skip


def _duplicate(error: asyncpg.UniqueViolationError) -> DuplicateDeclarationError:
    """A second live declaration (the `declaration` table's unique indexes) is the caller's
    error; any other unique violation is a bug and is raised as it is."""
    if error.table_name != "declaration":
        raise error
    return DuplicateDeclarationError(error.constraint_name)


async def record(connection: Connection, version: DeclarationVersion) -> None:
    """Store a new version and make it the declaration's current one."""
    try:
        await connection.execute(_RECORD, *_record_arguments(version))
    except asyncpg.UniqueViolationError as error:
        raise _duplicate(error) from None


async def record_many(connection: Connection, versions: Sequence[DeclarationVersion]) -> None:
    """`record` each of `versions`, in order, in one pipelined round trip (a batch)."""
    try:
        await connection.executemany(_RECORD, [_record_arguments(v) for v in versions])
    except asyncpg.UniqueViolationError as error:
        raise _duplicate(error) from None


_CURRENT = f"""
    SELECT {", ".join("v." + c.strip() for c in _COLUMNS.split(","))}, d.attendance_month,
           d.first_declared_at
    FROM declaration d
    JOIN declaration_version v
      ON v.declaration_id = d.declaration_id AND v.version = d.current_version
"""  # noqa: S608 - constant column list


async def current(
    connection: Connection, declaration_id: uuid.UUID, *, for_update: bool = False
) -> DeclarationVersion | None:
    lock = " FOR UPDATE OF d" if for_update else ""
    row = await connection.fetchrow(f"{_CURRENT} WHERE d.declaration_id = $1{lock}", declaration_id)
    return None if row is None else _version(row)


async def trainee_history(
    connection: Connection,
    organisation_id: uuid.UUID,
    trainee_id: str,
    action_number: str,
    session_number: str,
) -> list[DeclarationVersion]:
    """The live declarations about a trainee in a session, oldest first (the rules' input)."""
    rows = await connection.fetch(
        f"""{_CURRENT}
        WHERE d.organisation_id = $1 AND d.trainee_id = $2 AND d.action_number = $3
          AND d.session_number = $4 AND d.live
        ORDER BY d.first_declared_at, d.declaration_id""",
        organisation_id, trainee_id, action_number, session_number,
    )  # fmt: skip
    return [_version(row) for row in rows]


async def trainee_histories(
    connection: Connection, organisation_id: uuid.UUID, trainees: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str, str], list[DeclarationVersion]]:
    """`trainee_history` of each (trainee, action number, session number) of `trainees`, in
    one query; a trainee with no live declaration has no key."""
    rows = await connection.fetch(
        f"""{_CURRENT}
        JOIN unnest($2::text[], $3::text[], $4::text[]) AS k(trainee_id, action_number,
                                                             session_number)
          ON d.trainee_id = k.trainee_id AND d.action_number = k.action_number
         AND d.session_number = k.session_number
        WHERE d.organisation_id = $1 AND d.live
        ORDER BY d.first_declared_at, d.declaration_id""",
        organisation_id, [t[0] for t in trainees], [t[1] for t in trainees],
        [t[2] for t in trainees],
    )  # fmt: skip
    histories: dict[tuple[str, str, str], list[DeclarationVersion]] = {}
    for row in rows:
        version = _version(row)
        key = (version.trainee_id or "", version.action_number, version.session_number)
        histories.setdefault(key, []).append(version)
    return histories


async def versions(connection: Connection, declaration_id: uuid.UUID) -> list[DeclarationVersion]:
    rows = await connection.fetch(
        f"""SELECT {", ".join("v." + c.strip() for c in _COLUMNS.split(","))},
                   NULL::date AS attendance_month, d.first_declared_at
            FROM declaration_version v JOIN declaration d USING (declaration_id)
            WHERE v.declaration_id = $1 ORDER BY v.version""",  # noqa: S608 - constant columns
        declaration_id,
    )
    return [_version(row) for row in rows]


@dataclass(frozen=True)
class Criteria:
    """What a query of an OF's declarations asks for (all optional but the organisation)."""

    organisation_id: uuid.UUID
    kind: str | None = None
    trainee_id: str | None = None
    action_number: str | None = None
    session_number: str | None = None
    declared_from: datetime | None = None
    declared_before: datetime | None = None
    include_cancelled: bool = False


async def search(
    connection: Connection,
    criteria: Criteria,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[DeclarationVersion, datetime]]:
    """One page of current declarations with when each was first declared, oldest first,
    after the keyset cursor `after` (first declared at, declaration id)."""
    rows = await connection.fetch(
        f"""{_CURRENT}
        WHERE d.organisation_id = $1
          AND ($2::text IS NULL OR d.kind = $2)
          AND ($3::text IS NULL OR d.trainee_id = $3)
          AND ($4::text IS NULL OR d.action_number = $4)
          AND ($5::text IS NULL OR d.session_number = $5)
          AND ($6::timestamptz IS NULL OR d.first_declared_at >= $6)
          AND ($7::timestamptz IS NULL OR d.first_declared_at < $7)
          AND (d.live OR $8)
          AND ($9::timestamptz IS NULL OR (d.first_declared_at, d.declaration_id) > ($9, $10))
        ORDER BY d.first_declared_at, d.declaration_id
        LIMIT $11""",
        criteria.organisation_id, criteria.kind, criteria.trainee_id, criteria.action_number,
        criteria.session_number, criteria.declared_from, criteria.declared_before,
        criteria.include_cancelled, after and after[0], after and after[1], limit,
    )  # fmt: skip
    return [(version, version.judged_at) for version in map(_version, rows)]


@dataclass(frozen=True)
class LatenessLine:
    kind: str
    declared: int
    late: int


async def lateness(
    connection: Connection, organisation_id: uuid.UUID, since: datetime, until: datetime
) -> list[LatenessLine]:
    """Per kind, the first versions declared in [since, until) and how many were late (K18)."""
    rows = await connection.fetch(
        """
        SELECT kind, count(*) AS declared, count(*) FILTER (WHERE late) AS late
        FROM declaration_version
        WHERE organisation_id = $1 AND version = 1 AND declared_at >= $2 AND declared_at < $3
        GROUP BY kind ORDER BY kind
        """,
        organisation_id, since, until,
    )  # fmt: skip
    return [LatenessLine(**dict(row)) for row in rows]
