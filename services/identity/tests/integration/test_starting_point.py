"""The identity service under test starts at the end of the shared topics: the events earlier
tests left there are not replayed into the next test (the fixture's consumer groups start at
`latest`, in place before the test publishes)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest_asyncio
from aiokafka.structs import RecordMetadata

from kairos_schemas import habilitation as habilitation_events

from .helpers import consumed_past, publish_located

IdentityApi = Any  # the conftest's dataclass (test modules cannot import the conftest)
HABILITATION, ORGANISATION = str(uuid.uuid4()), str(uuid.uuid4())


def _ended() -> habilitation_events.HabilitationEnded:
    """Applied even for a habilitation the service never saw (nothing to disable)."""
    return habilitation_events.HabilitationEnded(
        habilitation_id=HABILITATION, organisation_id=ORGANISATION, reason="departure",
        ended_at="2026-03-02T09:00:00Z",
    )  # fmt: skip


@pytest_asyncio.fixture(loop_scope="session")
async def published_before_the_service(platform_topics: str) -> tuple[str, RecordMetadata]:
    return await publish_located(platform_topics, _ended())


async def test_an_event_published_before_the_service_started_is_not_applied(
    published_before_the_service: tuple[str, RecordMetadata],
    identity_api: IdentityApi,
    kafka_bootstrap_servers: str,
) -> None:
    earlier, before = published_before_the_service
    later, after = await publish_located(kafka_bootstrap_servers, _ended())  # same key
    assert after.partition == before.partition
    assert after.offset > before.offset
    await consumed_past(identity_api, after)  # the partition committed past both records
    rows = await identity_api.context.pool.fetch("SELECT event_id FROM inbox")
    applied = {row["event_id"] for row in rows}
    assert later in applied
    assert earlier not in applied
