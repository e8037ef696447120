"""``kairos reconcile``: the four services' views of one another agree once the platform is
quiet, and a view that drifted from its owner is named, fact by fact."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest_asyncio
from typer.testing import Result

from kairos_cli.reconcile import reconcile_databases
from kairos_cli.reconciliation import Snapshot, disagreements
from kairos_devstack.platform import Platform, bearer, running_platform
from kairos_notification.service_layer.delivery import deliver_all_due

Kairos = Callable[..., Awaitable[Result]]
ORG, HAB, ACCOUNT, RGC = (str(uuid.UUID(int=n)) for n in (1, 2, 3, 4))
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _consistent() -> Snapshot:
    return Snapshot(
        identity_organisations=[{"id": ORG, "status": "active"}],
        identity_accounts=[
            {"id": ACCOUNT, "organisation_id": ORG, "habilitation_id": HAB, "status": "active",
             "habilitation_suspended_at": None},
            {"id": RGC, "organisation_id": ORG, "habilitation_id": None, "status": "active",
             "habilitation_suspended_at": None},
        ],
        habilitation_organisations=[{"id": ORG, "status": "active"}],
        habilitations=[{"id": HAB, "status": "active", "account_id": ACCOUNT,
                        "suspended_at": None}],
        rgc_posts=[{"organisation_id": ORG, "rgc_account_id": RGC, "head_account_id": None}],
        declaration_organisations=[{"organisation_id": ORG, "status": "active"}],
        declarers=[{"habilitation_id": HAB, "account_id": ACCOUNT, "suspended": False,
                    "ended_at": None}],
        rgc_terms=[{"account_id": RGC, "organisation_id": ORG, "took_office_at": NOW,
                    "vacated_at": None}],
        lapsed_accounts=[],
        recipient_organisations=[{"id": ORG, "rgc_account_id": RGC, "head_account_id": None}],
        recipient_habilitations=[{"habilitation_id": HAB, "account_id": ACCOUNT}],
        unpublished={"identity": 0, "habilitation": 0, "declaration": 0, "notification": 0},
        overdue_emails=0,
    )  # fmt: skip


def test_a_consistent_platform_has_nothing_to_report() -> None:
    assert disagreements(_consistent()) == []


def test_each_view_that_drifted_is_named() -> None:
    snapshot = _consistent()
    drifted = replace(
        snapshot,
        habilitations=[{**snapshot.habilitations[0], "status": "ended"}],  # ended at the owner
        declaration_organisations=[{"organisation_id": ORG, "status": "suspended"}],
        rgc_terms=[],
        lapsed_accounts=[{"account_id": ACCOUNT}],
        unpublished={**snapshot.unpublished, "declaration": 2},
        overdue_emails=1,
    )
    found = disagreements(drifted)
    assert {(d.check, d.subject) for d in found} == {
        ("habilitation", HAB),  # identity's account still active, declaration's not ended
        ("organisation", ORG),
        ("rgc_post", ORG),
        ("lapsed_account", ACCOUNT),
        ("outbox", "declaration"),
        ("email", "notification"),
    }
    assert [d.detail for d in found if d.check == "habilitation"] == [
        "habilitation ended, declaration ended_at None",
        "habilitation ended, identity's account active",
    ]


@pytest_asyncio.fixture(loop_scope="session")
async def platform(
    new_database: Callable[[], Awaitable[str]], kafka_bootstrap_servers: str
) -> AsyncIterator[Platform]:
    async with running_platform(
        new_database, kafka_bootstrap_servers, with_declaration=True, with_notification=True
    ) as platform:
        yield platform


async def _deliver(platform: Platform) -> None:
    """The e-mails the events queued, delivered (the tests run the delivery job themselves)."""
    assert platform.notification is not None
    context = platform.notification.state.notification
    await deliver_all_due(context.pool, context.mailer, context.clock, context.retry)


async def test_the_services_agree_after_a_story_and_a_drifted_view_is_reported(
    platform: Platform, kairos: Kairos
) -> None:
    first = await platform.organisation(seed=951)
    second = await platform.organisation(seed=952)
    habilitation_id, _ = await platform.active_holder(first, "reconcile.951@of.example")
    await platform.active_holder(second, "reconcile.952@of.example")
    ended = await platform.http.post(
        f"/v1/habilitations/{habilitation_id}/ending", json={"reason": "departure"},
        headers=bearer(first.rgc_token),
    )  # fmt: skip
    assert ended.status_code == 200, ended.text
    suspended = await platform.identity_http.post(
        f"/v1/organisations/{second.id}/suspension", json={"reason": "contrôle"},
        headers=bearer(platform.operator_token),
    )  # fmt: skip
    assert suspended.status_code == 200, suspended.text

    env = {f"KAIROS_{s.upper()}_DATABASE_URL": url for s, url in platform.database_urls.items()}

    async def agreed() -> Result | None:
        """Once the platform is quiet (events consumed, e-mails delivered), the command itself
        finds the services agreeing; asked while an event is still on its way, it may not."""
        await _deliver(platform)
        if await reconcile_databases(platform.database_urls):
            return None
        clean = await kairos("reconcile", env=env)
        return clean if clean.exit_code == 0 else None

    clean = await platform.eventually(agreed, timeout=60)
    assert clean.stdout.strip().splitlines()[-1] == "the four services agree"

    connection = await asyncpg.connect(platform.database_urls["declaration"])
    try:  # the declaration service "forgot" that the habilitation ended
        await connection.execute(
            "UPDATE declarer_habilitation SET ended_at = NULL WHERE habilitation_id = $1",
            uuid.UUID(habilitation_id),
        )
    finally:
        await connection.close()
    drifted = await kairos("reconcile", "--json", env=env)
    assert drifted.exit_code == 1
    reported: list[dict[str, Any]] = json.loads(drifted.stdout[drifted.stdout.index("[") :])
    assert reported == [{
        "check": "habilitation", "subject": habilitation_id,
        "detail": "habilitation ended, declaration ended_at None",
    }]  # fmt: skip
