"""K22 through the running platform: an organisation's declarations are read by its own
declarers and by operators only, a page at a time with a hard maximum, within a per-account
rate, and every read of trainee data is audited; the lateness report counts late ones (K18)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

from kairos_shared.rate_limits import RateLimiter

Platform = Any  # kairos_devstack.platform.Platform (test modules cannot import the conftest)
SESSION = {"action_number": "84_AF_0000054321", "session_number": "84_SE_0000098765"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _declarer(platform: Platform, seed: int) -> tuple[Any, str]:
    organisation = await platform.organisation(seed=seed)
    _, token = await platform.active_holder(organisation, f"reader{seed}@of.example")
    session = {**SESSION, "starts_on": "2026-02-02", "ends_on": "2026-06-30", "weekly_hours": 35}
    await platform.register_session(organisation.id, token, session)
    return organisation, token


async def _enter(platform: Platform, organisation: Any, token: str, trainee: str, on: str) -> None:
    response = await platform.declaration_http.post(
        f"/v1/organisations/{organisation.id}/entries",
        json={"session": SESSION, "trainee_id": trainee, "entered_on": on},
        headers={**bearer(token), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text


async def _audited(platform: Platform, organisation_id: str) -> list[tuple[str, str | None]]:
    async with platform.declaration.state.resources.require_pool().acquire() as connection:
        rows = await connection.fetch(
            "SELECT what, trainee_id FROM read_audit WHERE organisation_id = $1 ORDER BY id",
            uuid.UUID(organisation_id),
        )
    return [(row["what"], row["trainee_id"]) for row in rows]


async def test_only_the_organisation_and_operators_read_and_every_read_is_audited(
    platform: Platform,
) -> None:
    ours, token = await _declarer(platform, seed=711)
    theirs, their_token = await _declarer(platform, seed=712)
    for index, trainee in enumerate(["2000001A", "2000002B", "2000003C"]):
        await _enter(platform, ours, token, trainee, f"2026-02-0{index + 2}")
        platform.clock.advance(timedelta(seconds=1))  # pages are in order of declaration
    url = f"/v1/organisations/{ours.id}/declarations"

    first = await platform.declaration_http.get(f"{url}?limit=2", headers=bearer(token))
    assert first.status_code == 200, first.text
    assert [d["trainee_id"] for d in first.json()["declarations"]] == ["2000001A", "2000002B"]
    cursor = first.json()["next_cursor"]
    second = await platform.declaration_http.get(
        url, params={"limit": 2, "cursor": cursor}, headers=bearer(token)
    )
    assert [d["trainee_id"] for d in second.json()["declarations"]] == ["2000003C"]
    assert second.json()["next_cursor"] is None
    spaced = await platform.declaration_http.get(
        url, params={"trainee_id": "2000002 b"}, headers=bearer(token)
    )
    assert [d["trainee_id"] for d in spaced.json()["declarations"]] == ["2000002B"]
    malformed = await platform.declaration_http.get(
        url, params={"trainee_id": "20000"}, headers=bearer(token)
    )
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "trainee_id"
    too_many = await platform.declaration_http.get(f"{url}?limit=1000", headers=bearer(token))
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "limit"

    by_operator = await platform.declaration_http.get(
        f"{url}?trainee_id=2000002B", headers=bearer(platform.operator_token)
    )
    assert [d["trainee_id"] for d in by_operator.json()["declarations"]] == ["2000002B"]
    declaration_id = by_operator.json()["declarations"][0]["declaration_id"]

    before = await _audited(platform, ours.id)
    other_list = await platform.declaration_http.get(url, headers=bearer(their_token))
    other_one = await platform.declaration_http.get(
        f"/v1/declarations/{declaration_id}", headers=bearer(their_token)
    )
    assert (other_list.status_code, other_one.status_code) == (403, 403)
    assert await _audited(platform, ours.id) == before  # a refused read reads nothing
    assert before == [
        ("declarations", "2000001A"), ("declarations", "2000002B"),
        ("declarations", "2000003C"), ("declarations", "2000002B"),  # the spaced query
        ("declarations", "2000002B"),  # the operator's (the malformed one read nothing)
    ]  # fmt: skip
    assert theirs.id != ours.id


async def test_reads_beyond_the_accounts_rate_are_refused_with_a_retry_after(
    platform: Platform,
) -> None:
    organisation, token = await _declarer(platform, seed=713)
    context = platform.declaration.state.declaration
    platform.declaration.state.declaration = dataclasses.replace(
        context, reads=RateLimiter(rate_per_second=0.01, burst=2, clock=platform.clock)
    )
    url = f"/v1/organisations/{organisation.id}/declarations"
    statuses = [
        (await platform.declaration_http.get(url, headers=bearer(token))).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    refused = await platform.declaration_http.get(url, headers=bearer(token))
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["type"].endswith("/rate-limited")


async def test_the_lateness_report_counts_late_declarations_per_kind(platform: Platform) -> None:
    organisation, token = await _declarer(platform, seed=714)
    await _enter(platform, organisation, token, "3000001A", "2026-02-27")  # due 2 March: in time
    await _enter(platform, organisation, token, "3000002B", "2026-02-10")  # due 13 February
    report = await platform.declaration_http.get(
        f"/v1/organisations/{organisation.id}/lateness?since=2026-03-01&until=2026-04-01",
        headers=bearer(token),
    )
    assert report.status_code == 200, report.text
    assert report.json()["kinds"] == [{"kind": "entry", "declared": 2, "late": 1}]
