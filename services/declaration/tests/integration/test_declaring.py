"""K16-K21 through the running platform: a declaration reaches the integrators' topic once,
valid against its published schema; an idempotent retry changes nothing; a habilitation ended in
the habilitation service stops the next declaration with no call between services; every rule
refuses with its field and stores nothing; a batch with one bad row is refused whole."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from kairos_devstack.held_validation import validation_held_back, validation_unpublished
from kairos_devstack.testing import read_records
from kairos_schemas import declaration as contracts

Platform = Any  # kairos_devstack.platform.Platform (test modules cannot import the conftest)
SCHEMAS = Path(__file__).parents[4] / "schemas" / "jsonschema"
SESSION = {"action_number": "84_AF_0000012345", "session_number": "84_SE_0000067890"}
TRAINEE = "1234567A"


async def post(
    platform: Platform, token: str, path: str, body: Any, *, key: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key or str(uuid.uuid4())}
    return await platform.declaration_http.post(path, json=body, headers=headers)


async def declarer(platform: Platform, seed: int) -> tuple[Any, str, str]:
    """An organisation, a habilitated user logged in, and a session registered (once the
    declaration service has seen the events that allow it)."""
    organisation = await platform.organisation(seed=seed)
    habilitation_id, token = await platform.active_holder(organisation, f"u{seed}@of.example")
    session = {**SESSION, "starts_on": "2026-02-02", "ends_on": "2026-06-30", "weekly_hours": 35}
    await platform.register_session(organisation.id, token, session)
    return organisation, habilitation_id, token


def entry(on: str = "2026-02-02") -> dict[str, Any]:
    return {"session": SESSION, "trainee_id": TRAINEE, "entered_on": on}


async def test_an_entry_reaches_the_integrators_once_and_a_revoked_user_is_refused_next(
    platform: Platform,
) -> None:
    organisation, habilitation_id, token = await declarer(platform, seed=701)
    path = f"/v1/organisations/{organisation.id}/entries"
    key = str(uuid.uuid4())
    first = await post(platform, token, path, entry(), key=key)
    assert first.status_code == 201, first.text
    retried = await post(platform, token, path, entry(), key=key)  # the network retried
    assert (retried.status_code, retried.json()) == (201, first.json())
    assert retried.headers["idempotent-replayed"] == "true"
    other_body = await post(platform, token, path, entry("2026-02-03"), key=key)
    assert other_body.status_code == 409

    declaration_id = first.json()["declaration_id"]
    assert first.json()["late"] is True  # 2 February + 3 days < 2 March (K18)
    records = [
        r for r in await read_records(platform.kafka, contracts.TOPIC, at_least=1)
        if json.loads(r.value).get("declaration_id") == declaration_id
    ]  # fmt: skip
    assert len(records) == 1  # exactly once (K21)
    record = records[0]
    assert (
        record.key == f"{TRAINEE}/{SESSION['action_number']}/{SESSION['session_number']}".encode()
    )
    headers = dict(record.headers)
    assert headers["ce_type"] == contracts.EntryDeclared.event_type.encode()
    schema = json.loads((SCHEMAS / f"{contracts.EntryDeclared.event_type}.json").read_text())
    jsonschema.validate(json.loads(record.value), schema)

    ended = await platform.http.post(  # the habilitation service, not the declaration service
        f"/v1/habilitations/{habilitation_id}/ending", json={"reason": "departure"},
        headers={"Authorization": f"Bearer {organisation.rgc_token}"},
    )  # fmt: skip
    assert ended.status_code == 200, ended.text

    async def refused() -> httpx.Response | None:
        exit_ = {"session": SESSION, "trainee_id": TRAINEE, "exited_on": "2026-02-20",
                 "exit_kind": "abandonment", "reason": "employment"}  # fmt: skip
        response = await post(platform, token, f"/v1/organisations/{organisation.id}/exits", exit_)
        return response if response.status_code in {401, 403} else None

    refusal = await platform.eventually(refused)
    assert refusal.json()["type"].rsplit("/", 1)[-1] in {"not-habilitated", "unauthenticated"}


async def test_each_rule_names_its_field_and_stores_nothing(platform: Platform) -> None:
    organisation, _, token = await declarer(platform, seed=702)
    base = f"/v1/organisations/{organisation.id}"
    exit_before_entry = {"session": SESSION, "trainee_id": TRAINEE, "exited_on": "2026-02-10",
                         "exit_kind": "abandonment", "reason": "employment"}  # fmt: skip
    cases = [
        ("exits", exit_before_entry, "trainee_id"),  # no entry yet
        ("interruptions", {"session": SESSION, "starts_on": "2026-03-01",
                           "ends_on": "2026-03-15", "reason": "travaux"}, "ends_on"),
        ("entries", {**entry(), "trainee_id": "123456"}, "trainee_id"),
        ("entries", {**entry(), "session": {**SESSION, "session_number": "84_SE_0000000000"}},
         "session"),
        ("attendance-statements", {"session": SESSION, "trainee_id": TRAINEE, "month": "2026-02",
                                   "attended_hours": 10}, "trainee_id"),  # no entry yet
    ]  # fmt: skip
    for path, body, field in cases:
        response = await post(platform, token, f"{base}/{path}", body)
        assert response.status_code == 422, (path, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (path, response.text)

    assert (await post(platform, token, f"{base}/entries", entry())).status_code == 201
    after_entry = [
        ("entries", entry("2026-02-03"), "trainee_id"),  # one entry per trainee and session
        ("exits", {**exit_before_entry, "exited_on": "2026-02-01"}, "exited_on"),
        ("attendance-statements", {"session": SESSION, "trainee_id": TRAINEE, "month": "2026-02",
                                   "attended_hours": 141}, "attended_hours"),  # 20 days of 7 h
    ]  # fmt: skip
    for path, body, field in after_entry:
        response = await post(platform, token, f"{base}/{path}", body)
        assert response.status_code == 422, (path, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (path, response.text)

    listed = await platform.declaration_http.get(
        f"{base}/declarations", headers={"Authorization": f"Bearer {token}"}
    )
    assert [d["kind"] for d in listed.json()["declarations"]] == ["entry"]  # nothing else stored


async def test_a_batch_with_one_bad_row_changes_nothing_and_names_the_row(
    platform: Platform,
) -> None:
    organisation, _, token = await declarer(platform, seed=703)
    base = f"/v1/organisations/{organisation.id}"
    trainees = ["1000001A", "1000002B", "1000003C"]
    for trainee in trainees:
        response = await post(
            platform, token, f"{base}/entries", {**entry(), "trainee_id": trainee}
        )
        assert response.status_code == 201, response.text
    rows = [{"session": SESSION, "trainee_id": t, "month": "2026-02", "attended_hours": 70,
             "unjustified_absence_hours": 3.5} for t in trainees]  # fmt: skip
    rows[1]["month"] = "2026-01"  # before the entry
    refused = await post(platform, token, f"{base}/attendance-statements/batch", {"rows": rows})
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["rows[1].month"]
    listed = await platform.declaration_http.get(
        f"{base}/declarations?kind=attendance", headers={"Authorization": f"Bearer {token}"}
    )
    assert listed.json()["declarations"] == []  # all or nothing

    rows[1]["month"] = "2026-02"
    csv_text = "trainee_id,action_number,session_number,month,attended_hours\r\n" + "".join(
        f"{t},{SESSION['action_number']},{SESSION['session_number']},2026-02,70\r\n"
        for t in trainees
    )
    accepted = await platform.declaration_http.post(
        f"{base}/attendance-statements/batch", content=csv_text.encode(),
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4()),
                 "Content-Type": "text/csv"},
    )  # fmt: skip
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["accepted"] == 3


async def test_a_partial_batch_keeps_the_good_rows_and_judges_each_row_as_if_alone(
    platform: Platform,
) -> None:
    """`all_or_nothing=false`: each row is judged against what is stored and what the rows
    before it in the batch declared; the refused rows are named, the others stored and
    published."""
    organisation, _, token = await declarer(platform, seed=705)
    base = f"/v1/organisations/{organisation.id}"
    trainees = ["2000001A", "2000002B"]
    for trainee in trainees:
        response = await post(
            platform, token, f"{base}/entries", {**entry(), "trainee_id": trainee}
        )
        assert response.status_code == 201, response.text

    def statement(trainee: str, month: str = "2026-02", **changes: Any) -> dict[str, Any]:
        return {"session": SESSION, "trainee_id": trainee, "month": month,
                "attended_hours": 7, **changes}  # fmt: skip

    before = await post(platform, token, f"{base}/attendance-statements", statement(trainees[1]))
    assert before.status_code == 201, before.text
    rows = [
        statement(trainees[0]),  # accepted
        statement(trainees[0], attended_hours=14),  # the same month again, in the batch
        statement(trainees[1]),  # the same month as the statement declared before
        statement(trainees[0], session={**SESSION, "session_number": "84_SE_0000000000"}),
        statement("2000003C"),  # no entry
        statement("12"),  # not an identifier
        statement(trainees[0], "2026-03", attended_hours=200),  # more than March allows
        statement(trainees[0], "2026-03"),  # accepted
        statement(trainees[1], "2026-13"),  # not a month
    ]
    response = await post(
        platform, token, f"{base}/attendance-statements/batch?all_or_nothing=false",
        {"rows": rows},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (2, 7)
    assert [r["status"] for r in body["rows"]] == [
        "accepted", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected",
        "accepted", "rejected",
    ]  # fmt: skip
    assert [[e["field"] for e in r.get("errors", [])] for r in body["rows"]] == [
        [], ["rows[1].month"], ["rows[2].month"], ["rows[3].session"], ["rows[4].trainee_id"],
        ["rows[5].trainee_id"], ["rows[6].attended_hours"], [], ["rows[8].month"],
    ]  # fmt: skip
    assert "declared already" in body["rows"][1]["errors"][0]["message"]

    listed = await platform.declaration_http.get(
        f"{base}/declarations?kind=attendance", headers={"Authorization": f"Bearer {token}"}
    )
    stored = {d["declaration_id"] for d in listed.json()["declarations"]}
    accepted = {body["rows"][0]["declaration_id"], body["rows"][7]["declaration_id"]}
    assert stored == accepted | {before.json()["declaration_id"]}
    published = {
        json.loads(r.value).get("declaration_id")
        for r in await read_records(platform.kafka, contracts.TOPIC, at_least=1)
    }
    assert accepted <= published

    again = await post(
        platform, token, f"{base}/attendance-statements/batch",
        {"rows": [statement(trainees[1], "2026-03"), statement(trainees[1], "2026-03")]},
    )  # fmt: skip
    assert again.status_code == 422, again.text  # all or nothing: the second row refuses both
    assert [e["field"] for e in again.json()["errors"]] == ["rows[1].month"]


async def test_a_correction_and_a_cancellation_are_new_versions(platform: Platform) -> None:
    organisation, _, token = await declarer(platform, seed=704)
    created = await post(platform, token, f"/v1/organisations/{organisation.id}/entries", entry())
    declaration_id = created.json()["declaration_id"]
    corrected = await post(
        platform, token, f"/v1/declarations/{declaration_id}/corrections",
        {**entry("2026-02-04"), "correction_reason": "date saisie par erreur"},
    )  # fmt: skip
    assert corrected.status_code == 201, corrected.text
    assert (corrected.json()["version"], corrected.json()["entered_on"]) == (2, "2026-02-04")
    cancelled = await post(
        platform, token, f"/v1/declarations/{declaration_id}/cancellation",
        {"reason": "stagiaire jamais venu"},
    )  # fmt: skip
    assert cancelled.status_code == 201, cancelled.text
    again = await post(
        platform, token, f"/v1/declarations/{declaration_id}/cancellation", {"reason": "encore"}
    )
    assert again.status_code == 409
    history = await platform.declaration_http.get(
        f"/v1/declarations/{declaration_id}", headers={"Authorization": f"Bearer {token}"}
    )
    versions = history.json()["versions"]
    assert [(v["version"], v["cancelled"]) for v in versions] == [(1, False), (2, False), (3, True)]
    assert versions[0]["entered_on"] == "2026-02-02"  # nothing overwritten (K20)


async def test_a_declarer_acting_before_the_validation_arrives_is_told_to_retry(
    platform: Platform,
) -> None:
    """The RGC registers a session a moment after the validation, before this service has heard
    of the organisation: 503 with Retry-After (not a 404 nor a 403), nothing stored, and the
    Idempotency-Key left free; an operator asking about it gets a 404; once the validation and
    the RGC's taking office have arrived, the same request with the same key is accepted."""
    session = {**SESSION, "starts_on": "2026-02-02", "ends_on": "2026-06-30", "weekly_hours": 35}
    key = str(uuid.uuid4())
    async with validation_held_back(platform, seed=931) as organisation:
        path = f"/v1/organisations/{organisation.id}/sessions"
        early = await post(platform, organisation.rgc_token, path, session, key=key)
        assert early.status_code == 503, early.text
        context = platform.declaration.state.declaration
        assert early.headers["retry-after"] == str(context.setup_retry_after_seconds)
        problem = early.json()
        assert problem["type"] == "https://kairos.example/problems/organisation-being-set-up"
        assert organisation.id in problem["detail"]
        listed = await platform.declaration_http.get(
            path, headers={"Authorization": f"Bearer {organisation.rgc_token}"}
        )
        assert listed.status_code == 503, listed.text
        by_operator = await platform.declaration_http.get(
            f"/v1/organisations/{organisation.id}/declarations",
            headers={"Authorization": f"Bearer {platform.operator_token}"},
        )
        assert by_operator.status_code == 404, by_operator.text
        assert await validation_unpublished(platform, organisation.id)  # still held back

    async def rgc_in_office() -> bool | None:  # the validation consumed: the RGC in office
        async with platform.declaration.state.resources.require_pool().acquire() as connection:
            found = await connection.fetchval(
                "SELECT t.took_office_at IS NOT NULL AND o.zone IS NOT NULL"
                " FROM rgc_term t JOIN organisation_access o USING (organisation_id)"
                " WHERE t.account_id = $1 AND t.organisation_id = $2",
                uuid.UUID(organisation.rgc_account_id), uuid.UUID(organisation.id),
            )  # fmt: skip
        return True if found else None

    await platform.eventually(rgc_in_office)
    later = await post(platform, organisation.rgc_token, path, session, key=key)
    assert later.status_code == 201, later.text
    assert "idempotent-replayed" not in later.headers


async def test_an_oversized_correspondent_is_refused_naming_each_field(platform: Platform) -> None:
    """A 1.2 MB e-mail address was accepted (201) and its event, too large for Kafka, blocked
    the outbox: every string of a request is bounded (e-mail 254, names 100)."""
    organisation, _, token = await declarer(platform, seed=704)
    path = f"/v1/organisations/{organisation.id}/correspondents"
    body = {"session": SESSION, "correspondent": {
        "first_name": "L" * 101, "last_name": "B" * 101,
        "email": "a" * 250 + "@example.fr", "phone": "+33 1 23 45 67 89",
    }}  # fmt: skip
    response = await post(platform, token, path, body)
    assert response.status_code == 422, response.text
    assert sorted(e["field"] for e in response.json()["errors"]) == [
        "body.correspondent.email", "body.correspondent.first_name", "body.correspondent.last_name",
    ], response.text  # fmt: skip
    fitting = {**body["correspondent"], "first_name": "L" * 100, "last_name": "B" * 100,  # type: ignore[dict-item]
               "email": "a" * 243 + "@example.fr"}  # fmt: skip
    accepted = await post(platform, token, path, {**body, "correspondent": fitting})
    assert accepted.status_code == 201, accepted.text
