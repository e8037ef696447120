"""Refresh-token reuse (RFC 9700 §4.14.2, K9): a refresh token already rotated away, presented
again, ends its session everywhere — the new token is refused too — with a ``SessionEnded``
on the identity topic and a security event in the log that carries no token."""

from __future__ import annotations

import asyncio
from typing import Any

from structlog.testing import capture_logs

from kairos_devstack.testing import read_records
from kairos_schemas import CloudEvent, parse_event
from kairos_schemas import identity as events

from .helpers import bearer

IdentityApi = Any  # the conftest's dataclass (test modules cannot import the conftest)
OPERATOR_PASSWORD = "Opérateur de garde, bureau 42"


async def _session_ended_on_topic(kafka: str, session_id: str) -> events.SessionEnded:
    async with asyncio.timeout(60):
        while True:
            for record in await read_records(kafka, events.TOPIC, idle_timeout=0.5):
                assert record.value is not None
                event = parse_event(CloudEvent.from_kafka(
                    record.key, record.value, list(record.headers)
                ))  # fmt: skip
                if isinstance(event, events.SessionEnded) and event.session_id == session_id:
                    return event


async def test_a_replayed_refresh_token_ends_the_session_everywhere(
    identity_api: IdentityApi, operator_token: str, platform_topics: str
) -> None:
    del operator_token  # the operator exists and can log in
    opened = await identity_api.login("operrin", OPERATOR_PASSWORD)
    assert opened.status_code == 201, opened.text
    first = opened.json()
    rotated = await identity_api.http.post(
        "/v1/sessions/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    claims = identity_api.context.verifier.verify(
        second["access_token"], now=identity_api.clock.now()
    )

    with capture_logs() as logs:
        replayed = await identity_api.http.post(
            "/v1/sessions/refresh", json={"refresh_token": first["refresh_token"]}
        )
    assert replayed.status_code == 401
    assert replayed.json()["type"].endswith("session-ended")

    refused = await identity_api.http.post(
        "/v1/sessions/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert refused.status_code == 401, "the thief's (or the owner's) new token dies with it"
    gone = await identity_api.http.delete(
        "/v1/sessions/current", headers=bearer(second["access_token"])
    )
    assert gone.status_code == 401, "the session's access token is refused at once"

    [security] = [entry for entry in logs if entry.get("security_event") == "refresh_token_reused"]
    assert security["log_level"] == "warning"
    assert security["session_id"] == claims.session_id
    for token in (first["refresh_token"], second["refresh_token"], second["access_token"]):
        assert token not in repr(logs)

    ended = await _session_ended_on_topic(platform_topics, claims.session_id)
    assert ended.reason == "refresh_token_reused"
    assert ended.account_id == claims.account_id
