"""The review campaign and review item tables (asyncpg): the annual reviews (K14)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from kairos_habilitation.domain import reviews as rules
from kairos_habilitation.domain.reviews import ReviewCampaign, ReviewDecision
from kairos_shared.db import Connection


@dataclass(frozen=True)
class StoredCampaign:
    id: uuid.UUID
    organisation_id: uuid.UUID
    year: int
    opens_at: datetime
    deadline: datetime
    reminder_days: tuple[int, ...]
    reminders_sent: tuple[int, ...] = ()
    opened_by: uuid.UUID | None = None
    closed_at: datetime | None = None
    default_applied: str | None = None

    def under_review(self, habilitation_ids: Collection[str]) -> ReviewCampaign:
        """The domain's campaign over `habilitation_ids`."""
        return ReviewCampaign(
            organisation_id=str(self.organisation_id), year=self.year, opens_at=self.opens_at,
            deadline=self.deadline, habilitation_ids=frozenset(habilitation_ids),
            reminder_days_before=self.reminder_days,
        )  # fmt: skip


@dataclass(frozen=True)
class ReviewItem:
    """A habilitation under review, as it stands now, and the RGC's decision on it."""

    habilitation_id: str
    first_name: str
    last_name: str
    role: str
    status: str
    suspended: bool
    decision: ReviewDecision | None
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None

    @property
    def effective_decision(self) -> ReviewDecision | None:
        """The decision, or "ended" for a habilitation ended meanwhile by any means."""
        if self.decision is None and self.status == "ended":
            return ReviewDecision.ENDED
        return self.decision


@dataclass(frozen=True)
class CampaignState:
    """A campaign and its habilitations as they stand now."""

    campaign: StoredCampaign
    items: list[ReviewItem]

    @property
    def under_review(self) -> ReviewCampaign:
        return self.campaign.under_review([item.habilitation_id for item in self.items])

    @property
    def decisions(self) -> dict[str, ReviewDecision]:
        return {
            item.habilitation_id: decision
            for item in self.items
            if (decision := item.effective_decision) is not None
        }

    @property
    def undecided(self) -> list[str]:
        return rules.undecided(self.under_review, self.decisions)


def _campaign(row: asyncpg.Record) -> StoredCampaign:
    values = {name: row[name] for name in StoredCampaign.__dataclass_fields__}
    values["reminder_days"] = tuple(row["reminder_days"])
    values["reminders_sent"] = tuple(row["reminders_sent"])
    return StoredCampaign(**values)


def _item(row: asyncpg.Record) -> ReviewItem:
    return ReviewItem(
        habilitation_id=str(row["habilitation_id"]), first_name=row["first_name"],
        last_name=row["last_name"], role=row["role"], status=row["status"],
        suspended=row["suspended_at"] is not None and row["status"] != "ended",
        decision=None if row["decision"] is None else ReviewDecision(row["decision"]),
        reason=row["reason"],
        decided_by=None if row["decided_by"] is None else str(row["decided_by"]),
        decided_at=row["decided_at"],
    )  # fmt: skip


async def insert(
    connection: Connection, campaign: StoredCampaign, habilitation_ids: Sequence[uuid.UUID]
) -> bool:
    """Store a new campaign and its items; False (nothing stored) when the organisation
    already has one for that year or one still open."""
    inserted = await connection.fetchval(
        """
        INSERT INTO review_campaign (id, organisation_id, year, opens_at, deadline,
                                     reminder_days, opened_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT DO NOTHING
        RETURNING true
        """,
        campaign.id, campaign.organisation_id, campaign.year, campaign.opens_at,
        campaign.deadline, list(campaign.reminder_days), campaign.opened_by,
    )  # fmt: skip
    if not inserted:
        return False
    await connection.executemany(
        "INSERT INTO review_item (campaign_id, habilitation_id) VALUES ($1, $2)",
        [(campaign.id, habilitation_id) for habilitation_id in habilitation_ids],
    )
    return True


async def get(
    connection: Connection, campaign_id: uuid.UUID, *, for_update: bool = False
) -> StoredCampaign | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await connection.fetchrow(
        f"SELECT * FROM review_campaign WHERE id = $1{lock}",  # noqa: S608 - constant suffix
        campaign_id,
    )
    return None if row is None else _campaign(row)


async def latest_of_organisation(
    connection: Connection, organisation_id: uuid.UUID
) -> StoredCampaign | None:
    row = await connection.fetchrow(
        """
        SELECT * FROM review_campaign WHERE organisation_id = $1
        ORDER BY opens_at DESC, id DESC LIMIT 1
        """,
        organisation_id,
    )
    return None if row is None else _campaign(row)


async def items(connection: Connection, campaign_id: uuid.UUID) -> list[ReviewItem]:
    rows = await connection.fetch(
        """
        SELECT i.*, h.first_name, h.last_name, h.role, h.status, h.suspended_at
        FROM review_item i JOIN habilitation h ON h.id = i.habilitation_id
        WHERE i.campaign_id = $1
        ORDER BY h.recorded_at, h.id
        """,
        campaign_id,
    )
    return [_item(row) for row in rows]


async def decide(
    connection: Connection,
    campaign_id: uuid.UUID,
    habilitation_id: uuid.UUID,
    decision: ReviewDecision,
    *,
    reason: str | None,
    by: uuid.UUID,
    at: datetime,
) -> None:
    await connection.execute(
        """
        UPDATE review_item SET decision = $3, reason = $4, decided_by = $5, decided_at = $6
        WHERE campaign_id = $1 AND habilitation_id = $2
        """,
        campaign_id, habilitation_id, decision.value, reason, by, at,
    )  # fmt: skip


async def record_endings(connection: Connection, campaign_id: uuid.UUID) -> None:
    """Undecided habilitations that ended meanwhile count as decided "ended" (by nobody)."""
    await connection.execute(
        """
        UPDATE review_item i SET decision = 'ended', decided_at = h.ended_at
        FROM habilitation h
        WHERE i.campaign_id = $1 AND i.decision IS NULL
          AND h.id = i.habilitation_id AND h.status = 'ended'
        """,
        campaign_id,
    )


async def mark_reminders(
    connection: Connection, campaign_id: uuid.UUID, days: Collection[int]
) -> None:
    await connection.execute(
        """
        UPDATE review_campaign
        SET reminders_sent = ARRAY(SELECT DISTINCT unnest(reminders_sent || $2::int[]) ORDER BY 1)
        WHERE id = $1
        """,
        campaign_id, list(days),
    )  # fmt: skip


async def close(connection: Connection, campaign_id: uuid.UUID, at: datetime, default: str) -> None:
    await connection.execute(
        "UPDATE review_campaign SET closed_at = $2, default_applied = $3 WHERE id = $1",
        campaign_id, at, default,
    )  # fmt: skip


@dataclass(frozen=True)
class DueOrganisation:
    id: uuid.UUID
    validated_at: datetime


async def claim_organisations_due(
    connection: Connection,
    year: int,
    now: datetime,
    period: timedelta,
    *,
    after: uuid.UUID | None,
    limit: int,
) -> list[DueOrganisation]:
    """Active organisations whose review of `year` should be running at `now` (anniversary of
    the validation passed, deadline not yet) and has no campaign, after `after` in id order;
    locked so that another replica's scheduler skips them (the caller holds the transaction).
    The anniversary is computed in UTC, as the domain does on the stored instant; the domain
    has the last word."""
    rows = await connection.fetch(
        """
        SELECT o.id, o.validated_at
        FROM organisation o, LATERAL (
            SELECT (o.validated_at AT TIME ZONE 'UTC') + make_interval(
                years => $1 - extract(year FROM o.validated_at AT TIME ZONE 'UTC')::int
            ) AS opening
        ) AS anniversary
        WHERE o.status = 'active' AND ($4::uuid IS NULL OR o.id > $4)
          AND extract(year FROM o.validated_at AT TIME ZONE 'UTC')::int < $1
          AND anniversary.opening <= ($2::timestamptz AT TIME ZONE 'UTC')
          AND anniversary.opening + $3::interval > ($2::timestamptz AT TIME ZONE 'UTC')
          AND NOT EXISTS (SELECT 1 FROM review_campaign c
                          WHERE c.organisation_id = o.id
                            AND (c.year = $1 OR c.closed_at IS NULL))
        ORDER BY o.id
        LIMIT $5
        FOR NO KEY UPDATE OF o SKIP LOCKED
        """,
        year, now, period, after, limit,
    )  # fmt: skip
    return [DueOrganisation(row["id"], row["validated_at"]) for row in rows]


async def claim_due(
    connection: Connection, now: datetime, after: uuid.UUID | None, limit: int
) -> list[StoredCampaign]:
    """Open campaigns whose deadline came or with a reminder due and not handled, after
    `after` in id order; locked so that another replica's scheduler skips them."""
    rows = await connection.fetch(
        """
        SELECT * FROM review_campaign c
        WHERE c.closed_at IS NULL AND ($2::uuid IS NULL OR c.id > $2)
          AND (c.deadline <= $1 OR EXISTS (
                SELECT 1 FROM unnest(c.reminder_days) AS d
                WHERE d <> ALL (c.reminders_sent) AND $1 >= c.deadline - d * interval '24 hours'
              ))
        ORDER BY c.id
        LIMIT $3
        FOR UPDATE SKIP LOCKED
        """,
        now, after, limit,
    )  # fmt: skip
    return [_campaign(row) for row in rows]
