"""K18 through the running platform: a due day on which the OF's zone is closed moves to its
next open day, on the integrators' topic as in the API; a correction keeps the lateness of the
first version, whenever it comes, and says when the first version was declared."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx

from kairos_devstack.testing import read_records
from kairos_schemas import declaration as contracts
from kairos_shared.access_hours import AccessCalendar, OpeningRules

Platform = Any  # kairos_devstack.platform.Platform (test modules cannot import the conftest)
SESSION = {"action_number": "84_AF_0000031415", "session_number": "84_SE_0000092653"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def post(platform: Platform, token: str, path: str, body: Any) -> httpx.Response:
    headers = {**bearer(token), "Idempotency-Key": str(uuid.uuid4())}
    return await platform.declaration_http.post(path, json=body, headers=headers)


async def declarer(platform: Platform, seed: int) -> tuple[Any, str]:
    """An organisation in Lyon, a habilitated user logged in, and a session registered."""
    organisation = await platform.organisation(seed=seed)
    _, token = await platform.active_holder(organisation, f"due{seed}@of.example")
    session = {**SESSION, "starts_on": "2026-02-02", "ends_on": "2026-06-30", "weekly_hours": 35}
    await platform.register_session(organisation.id, token, session)
    return organisation, token


async def published(platform: Platform, declaration_id: str, versions: int) -> list[dict[str, Any]]:
    """The declaration's events on the integrators' topic, in order, once all `versions` are."""

    async def all_there() -> list[dict[str, Any]] | None:
        found = [
            json.loads(record.value)
            for record in await read_records(platform.kafka, contracts.TOPIC, at_least=1)
            if json.loads(record.value).get("declaration_id") == declaration_id
        ]
        return found if len(found) >= versions else None

    return await platform.eventually(all_there)


async def test_an_event_due_on_a_sunday_is_due_the_monday_and_declared_then_is_on_time(
    platform: Platform,
) -> None:
    organisation, token = await declarer(platform, seed=741)
    assert platform.clock.now().date().isoformat() == "2026-03-02"  # a Monday, 10:00 in Lyon
    thursday = {"session": SESSION, "trainee_id": "4100001A", "entered_on": "2026-02-26"}
    wednesday = {"session": SESSION, "trainee_id": "4100002B", "entered_on": "2026-02-25"}
    friday_before = {"session": SESSION, "trainee_id": "4100003C", "entered_on": "2026-02-20"}
    answers = [
        await post(platform, token, f"/v1/organisations/{organisation.id}/entries", body)
        for body in (thursday, wednesday, friday_before)
    ]
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    assert [(a.json()["due_by"], a.json()["late"]) for a in answers] == [
        ("2026-03-02", False),  # 3 days is Sunday 1 March: due the Monday
        ("2026-03-02", False),  # 3 days is Saturday 28 February: due the Monday
        ("2026-02-23", True),  # 3 days is Monday 23 February: no move, and late
    ]
    events = await published(platform, answers[0].json()["declaration_id"], 1)
    assert (events[0]["due_by"], events[0]["late"]) == ("2026-03-02", False)

    report = await platform.declaration_http.get(
        f"/v1/organisations/{organisation.id}/lateness?since=2026-03-01&until=2026-04-01",
        headers=bearer(token),
    )
    assert report.json()["kinds"] == [{"kind": "entry", "declared": 3, "late": 1}]


async def test_a_correction_keeps_the_lateness_of_the_first_version(platform: Platform) -> None:
    organisation, token = await declarer(platform, seed=742)
    base = f"/v1/organisations/{organisation.id}"
    first_declared_at = platform.clock.now()
    in_time = {"session": SESSION, "trainee_id": "4200001A", "entered_on": "2026-02-27"}
    late = {"session": SESSION, "trainee_id": "4200002B", "entered_on": "2026-02-10"}
    on_time_id = (await post(platform, token, f"{base}/entries", in_time)).json()["declaration_id"]
    late_id = (await post(platform, token, f"{base}/entries", late)).json()["declaration_id"]

    await platform.advance(timedelta(days=2))  # Wednesday 4 March: past the due day, 2 March
    token = await platform.relogin(token)
    corrected_at = platform.clock.now()
    corrections = [
        await post(platform, token, f"/v1/declarations/{declaration_id}/corrections",
                   {**body, "funded_by": "Région", "correction_reason": "financeur précisé"})
        for declaration_id, body in ((on_time_id, in_time), (late_id, late))
    ]  # fmt: skip
    assert [c.status_code for c in corrections] == [201, 201], [c.text for c in corrections]
    assert [(c.json()["due_by"], c.json()["late"]) for c in corrections] == [
        ("2026-03-02", False),  # declared first on 2 March, on time: corrected later, still so
        ("2026-02-13", True),  # declared first after its due day: a correction keeps it late
    ]

    events = await published(platform, on_time_id, 2)
    assert [(e["version"], e["late"]) for e in events] == [(1, False), (2, False)]
    assert [datetime.fromisoformat(e["first_declared_at"]) for e in events] == [
        first_declared_at,
        first_declared_at,
    ]
    assert [datetime.fromisoformat(e["declared_at"]) for e in events] == [
        first_declared_at,
        corrected_at,
    ]
    assert corrected_at.tzinfo is UTC

    history = await platform.declaration_http.get(
        f"/v1/declarations/{on_time_id}", headers=bearer(token)
    )
    assert [(v["version"], v["late"]) for v in history.json()["versions"]] == [
        (1, False),
        (2, False),
    ]


async def test_the_lateness_reports_days_are_the_ofs_zones(platform: Platform) -> None:
    """La Réunion is UTC+4: a declaration at 01:30 there on 3 March is 2 March in UTC. With
    hours configured round the clock, the report of 3 March counts it, that of 2 March not."""
    always = AccessCalendar(OpeningRules(time(0), time(23, 59), frozenset(range(7))))
    for app, name in ((platform.identity, "identity"), (platform.declaration, "declaration")):
        setattr(app.state, name, dataclasses.replace(getattr(app.state, name), calendar=always))
    organisation = await platform.organisation(seed=743, postal_code="97400")
    _, token = await platform.active_holder(organisation, "due743@of.example")
    platform.clock.set(datetime(2026, 3, 2, 21, 30, tzinfo=UTC))  # 01:30 on 3 March there
    token = await platform.relogin(token)
    session = {**SESSION, "starts_on": "2026-02-02", "ends_on": "2026-06-30", "weekly_hours": 35}
    base = f"/v1/organisations/{organisation.id}"

    async def registered() -> httpx.Response | None:
        response = await post(platform, token, f"{base}/sessions", session)
        return response if response.status_code == 201 else None

    await platform.eventually(registered)
    entry = {"session": SESSION, "trainee_id": "4300001A", "entered_on": "2026-02-27"}
    assert (await post(platform, token, f"{base}/entries", entry)).status_code == 201

    async def report(since: str, until: str) -> list[dict[str, Any]]:
        answer = await platform.declaration_http.get(
            f"{base}/lateness?since={since}&until={until}", headers=bearer(token)
        )
        assert answer.status_code == 200, answer.text
        kinds: list[dict[str, Any]] = answer.json()["kinds"]
        return kinds

    assert await report("2026-03-03", "2026-03-04") == [{"kind": "entry", "declared": 1, "late": 1}]
    assert await report("2026-03-02", "2026-03-03") == []
