"""K18, K23: a few days before monthly statements are due (the 5th working day, in the
organisation's zone), the RGC of an organisation whose trainees lack last month's statement is
reminded — once, however many replicas run the round — and nobody else is."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any, cast

import asyncpg
import pytest_asyncio

from kairos_notification.adapters.templates import TemplateRenderer
from kairos_notification.domain.delivery import RetryPolicy
from kairos_notification.service_layer.attendance_reminders import remind_attendance
from kairos_notification.service_layer.context import NotificationContext
from kairos_notification.service_layer.queueing import on_event
from kairos_schemas import Event, identity, to_cloudevent
from kairos_schemas import declaration as declarations
from kairos_shared.clock import ManualClock
from kairos_shared.inbox import Delivery
from kairos_shared.migrations import apply_migrations
from kairos_shared.runtime import SHARED_MIGRATIONS

SESSION = declarations.TrainingSession(action_number="11_AF_1", session_number="11_SE_1")
# Statements for February 2026 are due on Friday 6 March (the 5th working day of March in
# metropolitan France); the reminder window opens 2 days before.
BEFORE_WINDOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
IN_WINDOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


@dataclass
class _Pool:
    pool: asyncpg.Pool

    def require_pool(self) -> asyncpg.Pool:
        return self.pool


@pytest_asyncio.fixture(loop_scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    assert pool is not None
    async with pool.acquire() as connection:
        await apply_migrations(connection, SHARED_MIGRATIONS, component="kairos_shared")
        migrations = Path(str(files("kairos_notification") / "migrations"))
        await apply_migrations(connection, migrations, component="notification")
    yield pool
    await pool.close()


async def _apply(pool: asyncpg.Pool, event: Event) -> None:
    cloudevent = to_cloudevent(event, source="/test")
    async with pool.acquire() as connection, connection.transaction():
        delivery = Delivery(cloudevent, event.topic, 0, 0)
        await on_event(connection, TemplateRenderer(), event, delivery, BEFORE_WINDOW)


async def _organisation(pool: asyncpg.Pool, seed: int, *, trainees: int, stated: int) -> str:
    """An organisation with `trainees` in training since February, `stated` of them with a
    February statement; its RGC's e-mail address is returned."""
    organisation_id, rgc = str(uuid.uuid4()), f"rgc{seed}@of.example"
    await _apply(pool, identity.AdhesionValidated(
        organisation_id=organisation_id, siret="73282932000074", legal_name=f"OF {seed}",
        zone="metropolitan",
        head=identity.HeadOfOrganisation(first_name="I", last_name="R", email=f"h{seed}@of.example",
                                         function="Directrice"),
        rgc=identity.Person(first_name="P", last_name="G", email=rgc),
        rgc_account_id=str(uuid.uuid4()), validated_at=BEFORE_WINDOW,
        validated_by=str(uuid.uuid4()),
        access_expires_at=BEFORE_WINDOW + timedelta(days=1000),
    ))  # fmt: skip
    common = {"version": 1, "organisation_id": organisation_id, "session": SESSION,
              "declared_by": str(uuid.uuid4()), "declared_at": BEFORE_WINDOW,
              "due_by": date(2026, 2, 5), "late": False}  # fmt: skip
    for index in range(trainees):
        trainee = f"{seed:04d}{index:03d}A"
        await _apply(pool, declarations.EntryDeclared(
            declaration_id=str(uuid.uuid4()), trainee_id=trainee, entered_on=date(2026, 2, 2),
            **common,
        ))  # fmt: skip
        if index < stated:
            await _apply(pool, declarations.AttendanceDeclared(
                declaration_id=str(uuid.uuid4()), trainee_id=trainee, month="2026-02",
                attended_hours=70, justified_absence_hours=0, unjustified_absence_hours=0,
                **common,
            ))  # fmt: skip
    return rgc


def _context(pool: asyncpg.Pool, clock: ManualClock) -> NotificationContext:
    return NotificationContext(
        resources=cast(Any, _Pool(pool)), clock=clock, renderer=TemplateRenderer(),
        mailer=cast(Any, None), retry=RetryPolicy(), tokens=cast(Any, None),
    )  # fmt: skip


async def _reminded(pool: asyncpg.Pool, address: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT subject FROM notification WHERE kind = 'attendance_deadline_reminder'"
        " AND recipient_email = $1",
        address,
    )
    return [row["subject"] for row in rows]


async def test_the_rgc_is_reminded_once_of_missing_statements(pool: asyncpg.Pool) -> None:
    missing = await _organisation(pool, 1, trainees=2, stated=1)
    complete = await _organisation(pool, 2, trainees=2, stated=2)
    clock = ManualClock(BEFORE_WINDOW)
    context = _context(pool, clock)

    assert await remind_attendance(context) == 0  # not yet
    clock.set(IN_WINDOW)
    rounds = await asyncio.gather(remind_attendance(context), remind_attendance(context))
    assert sum(rounds) == 1  # two replicas: one e-mail
    assert await remind_attendance(context) == 0  # and never again for February
    [subject] = await _reminded(pool, missing)
    assert "février 2026" in subject
    assert "vendredi 6 mars 2026" in subject
    assert await _reminded(pool, complete) == []  # every statement is in: nobody is bothered
