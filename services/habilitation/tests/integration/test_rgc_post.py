"""K10 through Kafka: the adhesion's RGC takes office; an RGC who lets day 21 pass leaves the
post vacant with the head holding the RGC's rights; the head designates a successor, an operator
validates the designation and hands over its credentials, and the new RGC takes office once the
identity service created the account."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kairos_identity.service_layer.deadlines import apply_deadlines
from kairos_schemas import habilitation as events

Platform = Any  # the conftest's dataclass (test modules cannot import the conftest)
DAY_21 = timedelta(days=22)  # past the end of the 21st day in the OF's zone (K6)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_an_rgc_who_never_logs_in_leaves_the_post_vacant_on_day_21(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=511, activate_rgc=False)
    post = await platform.post_of(organisation.id)
    assert post["rgc_account_id"] == organisation.rgc_account_id
    took_office = await platform.published(events.RgcTookOffice.event_type, organisation.id)
    assert [e["rgc_account_id"] for e in took_office] == [organisation.rgc_account_id]

    await platform.advance(DAY_21)
    await apply_deadlines(platform.identity.state.identity)  # identity: the account lapses

    async def vacant() -> dict[str, Any] | None:
        post = await platform.post_of(organisation.id)
        return post if post["vacant_since"] is not None else None

    post = await platform.eventually(vacant)
    assert post["rgc_account_id"] is None
    assert post["rgc_rights_held_by"] is None  # the head has no account yet
    [vacated] = await platform.published(events.RgcPostVacated.event_type, organisation.id)
    assert vacated["reason"] == "provisional_account_lapsed"
    assert vacated["former_rgc_account_id"] == organisation.rgc_account_id


async def test_a_designated_rgc_who_lets_day_21_pass_leaves_the_head_in_charge(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=512)
    _, head_token = await platform.active_holder(organisation, "ines.roux@of.example", role="head")
    post = await platform.post_of(organisation.id)
    head_account = post["head_account_id"]
    assert head_account is not None

    designated = await platform.http.put(
        f"/v1/organisations/{organisation.id}/rgc",
        json={"first_name": "Nora", "last_name": "Blanc", "email": "nora.blanc@of.example",
              "reason": "departure"},
        headers=bearer(head_token),
    )  # fmt: skip
    assert designated.status_code == 202, designated.text
    assert designated.json()["status"] == "pending"
    designation_id = designated.json()["rgc_designation_id"]
    credentials = await platform.validate_designation(designation_id)

    async def new_rgc_in_office() -> str | None:
        post = await platform.post_of(organisation.id)
        rgc = post["rgc_account_id"]
        return rgc if rgc not in (None, organisation.rgc_account_id) else None

    new_rgc = await platform.eventually(new_rgc_in_office)
    office = await platform.published(events.RgcTookOffice.event_type, organisation.id)
    assert office[-1]["rgc_designation_id"] == designation_id
    assert new_rgc == credentials["account_id"]
    # The former RGC lost the RGC's rights at once: relieved for departure.
    refused = await platform.habilitate(organisation.id, organisation.rgc_token, "x@of.example")
    assert refused.status_code in {401, 403}

    await platform.advance(DAY_21)  # the new RGC never logs in
    await apply_deadlines(platform.identity.state.identity)
    head_token = await platform.relogin(head_token)

    async def head_in_charge() -> dict[str, Any] | None:
        post = await platform.post_of(organisation.id)
        return post if post["rgc_rights_held_by"] == head_account else None

    post = await platform.eventually(head_in_charge)
    assert post["rgc_account_id"] is None
    vacancies = await platform.published(events.RgcPostVacated.event_type, organisation.id)
    assert [(v["reason"], v["former_rgc_account_id"], v["head_account_id"]) for v in vacancies] == [
        ("departure", organisation.rgc_account_id, head_account),
        ("provisional_account_lapsed", new_rgc, head_account),
    ]
    # The head now holds the RGC's rights: it habilitates.
    recorded = await platform.habilitate(organisation.id, head_token, "zoe@of.example")
    assert recorded.status_code == 201, recorded.text


async def test_only_the_head_designates_and_a_held_post_needs_a_reason(platform: Platform) -> None:
    organisation = await platform.organisation(seed=513)
    _, head_token = await platform.active_holder(organisation, "head513@of.example", role="head")
    body = {"first_name": "Nora", "last_name": "Blanc", "email": "nora@of.example"}
    url = f"/v1/organisations/{organisation.id}/rgc"
    by_rgc = await platform.http.put(url, json=body, headers=bearer(organisation.rgc_token))
    assert by_rgc.status_code == 403
    by_operator = await platform.http.put(
        f"/v1/organisations/{organisation.id}/rgc",
        json=body,
        headers=bearer(platform.operator_token),
    )
    assert by_operator.status_code == 403
    no_reason = await platform.http.put(
        f"/v1/organisations/{organisation.id}/rgc", json=body, headers=bearer(head_token)
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    post = await platform.post_of(organisation.id)
    assert post["rgc_account_id"] == organisation.rgc_account_id
    assert await platform.published(events.RgcDesignated.event_type, organisation.id) == []
