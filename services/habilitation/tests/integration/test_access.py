"""Who may do what (README "Authorisation"), decided from offline-validated tokens and this
service's own view of the identity events: an RGC never touches another organisation's data,
a suspended organisation's people are refused until reinstated (K3), OF roles only inside
opening hours (K4), an ended session is refused at once (K9); bad input changes nothing."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from kairos_devstack.held_validation import validation_held_back, validation_unpublished
from kairos_schemas import habilitation as events

Platform = Any  # the conftest's dataclass (test modules cannot import the conftest)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _outbox_size(platform: Platform) -> int:
    async with platform.context.pool.acquire() as connection:
        return int(await connection.fetchval("SELECT count(*) FROM outbox"))


async def test_an_rgc_cannot_touch_another_organisations_data(platform: Platform) -> None:
    ours = await platform.organisation(seed=521)
    theirs = await platform.organisation(seed=522)
    their_habilitation, _ = await platform.active_holder(theirs, "camille@theirs.example")
    before = await _outbox_size(platform)

    attempts = {
        "record": await platform.habilitate(theirs.id, ours.rgc_token, "intrus@ours.example"),
        "list": await platform.http.get(
            f"/v1/organisations/{theirs.id}/habilitations?format=csv",
            headers=bearer(ours.rgc_token),
        ),
        "read": await platform.http.get(
            f"/v1/habilitations/{their_habilitation}", headers=bearer(ours.rgc_token)
        ),
        "end": await platform.http.post(
            f"/v1/habilitations/{their_habilitation}/ending",
            json={"reason": "departure"},
            headers=bearer(ours.rgc_token),
        ),
        "absence": await platform.http.post(
            f"/v1/habilitations/{their_habilitation}/absences",
            json={"starts_on": "2025-01-01"},
            headers=bearer(ours.rgc_token),
        ),
        "post": await platform.http.get(
            f"/v1/organisations/{theirs.id}/rgc", headers=bearer(ours.rgc_token)
        ),
    }
    assert {name: r.status_code for name, r in attempts.items()} == dict.fromkeys(attempts, 403)
    assert all(r.headers["content-type"] == "application/problem+json" for r in attempts.values())
    assert (await platform.habilitation(their_habilitation))["status"] == "active"
    assert await _outbox_size(platform) == before  # nothing published either


async def test_a_suspended_organisation_stops_and_reinstatement_restores_it(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=523)
    habilitation_id, _ = await platform.active_holder(organisation, "jules@of.example")
    operator = bearer(platform.operator_token)
    suspended = await platform.identity_http.post(
        f"/v1/organisations/{organisation.id}/suspension",
        json={"reason": "non-respect des CGU §8"},
        headers=operator,
    )
    assert suspended.status_code == 200, suspended.text

    async def effective_status(expected: str) -> str | None:
        listed = await platform.http.get(
            f"/v1/organisations/{organisation.id}/habilitations", headers=operator
        )
        status = listed.json()["habilitations"][0]["effective_status"]
        return status if status == expected else None

    await platform.eventually(lambda: effective_status("organisation_suspended"))
    rgc_token = organisation.rgc_token
    refused = await platform.habilitate(organisation.id, rgc_token, "new@of.example")
    assert refused.status_code in {401, 403}  # its sessions ended, and its access is suspended

    reinstated = await platform.identity_http.post(
        f"/v1/organisations/{organisation.id}/reinstatement", headers=operator
    )
    assert reinstated.status_code == 200, reinstated.text
    await platform.eventually(lambda: effective_status("active"))
    assert (await platform.habilitation(habilitation_id))["status"] == "active"
    rgc_token = await platform.relogin(rgc_token)
    allowed = await platform.habilitate(organisation.id, rgc_token, "new@of.example")
    assert allowed.status_code == 201, allowed.text


async def test_of_roles_are_refused_outside_opening_hours_operators_are_not(
    platform: Platform,
) -> None:
    await platform.advance(timedelta(hours=8, minutes=55))  # 18:55 in Paris, still open
    organisation = await platform.organisation(seed=524)
    platform.clock.advance(timedelta(minutes=6))  # 19:01: closed, the token still valid
    refused = await platform.habilitate(organisation.id, organisation.rgc_token, "a@of.example")
    assert refused.status_code == 403
    body = refused.json()
    assert body["type"].endswith("/outside-access-hours")
    assert body["next_opening"] == "2026-03-03T06:30:00Z"  # 07:30 in Paris the next morning
    listed = await platform.http.get(
        f"/v1/organisations/{organisation.id}/habilitations",
        headers=bearer(platform.operator_token),
    )
    assert listed.status_code == 200


async def test_a_logged_out_session_is_refused_as_soon_as_its_event_arrives(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=525)
    token = organisation.rgc_token
    logout = await platform.identity_http.delete("/v1/sessions/current", headers=bearer(token))
    assert logout.status_code == 204

    async def refused() -> int | None:
        response = await platform.http.get(
            f"/v1/organisations/{organisation.id}/rgc", headers=bearer(token)
        )
        return response.status_code if response.status_code == 401 else None

    assert await platform.eventually(refused) == 401
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    bad = await platform.http.get(
        f"/v1/organisations/{organisation.id}/rgc", headers=bearer(tampered)
    )
    assert bad.status_code == 401
    anonymous = await platform.http.get(f"/v1/organisations/{organisation.id}/rgc")
    assert anonymous.status_code == 401


async def test_bad_input_names_the_field_and_changes_nothing(platform: Platform) -> None:
    organisation = await platform.organisation(seed=526)
    url = f"/v1/organisations/{organisation.id}/habilitations"
    good = {
        "person": {"first_name": "Lou", "last_name": "Petit", "email": "lou@of.example"},
        "function": "formatrice",
        "authorisation": {"signed_by": "Inès Roux", "signed_on": "2026-03-01",
                          "document_sha256": "a" * 64},
        "employee_attested": True,
    }  # fmt: skip
    cases = {
        "employee_attested": {**good, "employee_attested": False},
        "authorisation.signed_on": {
            **good, "authorisation": {**good["authorisation"], "signed_on": "2026-03-03"}
        },
        "body.authorisation.document_sha256": {
            **good, "authorisation": {**good["authorisation"], "document_sha256": "abc"}
        },
        "body.person.email": {**good, "person": {**good["person"], "email": "not-an-email"}},
        "body.extra": {**good, "extra": 1},
    }  # fmt: skip
    for field, body in cases.items():
        response = await platform.http.post(url, json=body, headers=bearer(organisation.rgc_token))
        assert response.status_code == 422, (field, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field]
    first = await platform.http.post(url, json=good, headers=bearer(organisation.rgc_token))
    assert first.status_code == 201
    twice = await platform.http.post(url, json=good, headers=bearer(organisation.rgc_token))
    assert twice.status_code == 409
    recorded = await platform.published(events.HabilitationRecorded.event_type, organisation.id)
    assert len(recorded) == 1


async def test_operators_export_the_list_as_csv_and_json(platform: Platform) -> None:
    organisation = await platform.organisation(seed=527)
    kept, _ = await platform.active_holder(organisation, "=cmd@of.example")
    platform.clock.advance(timedelta(seconds=1))
    gone = await platform.habilitate(organisation.id, organisation.rgc_token, "gone@of.example")
    await platform.http.post(
        f"/v1/habilitations/{gone.json()['habilitation_id']}/ending",
        json={"reason": "change_of_function"},
        headers=bearer(organisation.rgc_token),
    )
    url = f"/v1/organisations/{organisation.id}/habilitations"
    exported = await platform.http.get(
        f"{url}?format=csv&status=all", headers=bearer(platform.operator_token)
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["habilitation_id"], r["status"], r["end_reason"]) for r in rows] == [
        (kept, "active", ""),
        (gone.json()["habilitation_id"], "ended", "change_of_function"),
    ]
    assert rows[0]["email"] == "'=cmd@of.example"  # no formula reaches a spreadsheet
    live = await platform.http.get(url, headers=bearer(platform.operator_token))
    assert [h["habilitation_id"] for h in live.json()["habilitations"]] == [kept]


async def test_an_rgc_acting_before_the_validation_arrives_is_told_to_retry(
    platform: Platform,
) -> None:
    """The RGC habilitates someone a moment after the validation, before this service has heard
    of the organisation: 503 with Retry-After, saying it is being set up (not 404), and nothing
    recorded; an operator asking about it gets a 404; once the validation arrives, the same
    request is accepted."""
    async with validation_held_back(platform, seed=527) as organisation:
        early = await platform.habilitate(organisation.id, organisation.rgc_token, "t@of.example")
        assert early.status_code == 503, early.text
        assert early.headers["retry-after"] == str(platform.context.setup_retry_after_seconds)
        assert early.headers["content-type"] == "application/problem+json"
        problem = early.json()
        assert problem["type"] == "https://kairos.example/problems/organisation-being-set-up"
        assert problem["title"] == "Organisation being set up"
        assert organisation.id in problem["detail"]
        assert "retry" in problem["detail"]
        post = await platform.http.get(
            f"/v1/organisations/{organisation.id}/rgc", headers=bearer(organisation.rgc_token)
        )
        assert post.status_code == 503, post.text
        by_operator = await platform.http.get(
            f"/v1/organisations/{organisation.id}/rgc", headers=bearer(platform.operator_token)
        )
        assert by_operator.status_code == 404, by_operator.text
        recorded = events.HabilitationRecorded.event_type
        assert await platform.published(recorded, organisation.id) == []  # nothing recorded
        assert await validation_unpublished(platform, organisation.id)  # still held back
    await platform.eventually(lambda: platform.post_of(organisation.id))  # consumed now
    later = await platform.habilitate(organisation.id, organisation.rgc_token, "t@of.example")
    assert later.status_code == 201, later.text
