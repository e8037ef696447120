"""K10 and K15 end to end: an operator lists the habilitations usage does not justify and
demands they end, or demands the RGC's revocation; the organisation complies (ending or
justifying) and the demand settles, or the deadline comes and the demand is enforced — the
habilitation ends (the identity service refuses the person) or the RGC post falls vacant and
the head holds the RGC's rights."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from kairos_habilitation.service_layer.demands import settle_demands
from kairos_identity.adapters.organisations import Contact
from kairos_identity.service_layer.operators import create_operator
from kairos_schemas import habilitation as events

Platform = Any  # the conftest's dataclass (test modules cannot import the conftest)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def demand(platform: Platform, organisation_id: str, token: str, **body: Any) -> Any:
    return await platform.http.post(
        f"/v1/organisations/{organisation_id}/demands",
        json={"reason": "aucune connexion depuis plus de 90 jours", **body},
        headers=bearer(token),
    )


async def justify(platform: Platform, token: str, demand_id: str, habilitation_id: str) -> Any:
    return await platform.http.post(
        f"/v1/demands/{demand_id}/justifications",
        json={"habilitation_id": habilitation_id, "justification": "en congé parental"},
        headers=bearer(token),
    )


def soon(platform: Platform) -> str:
    """A deadline 5 minutes away: passed after 6, while tokens (10 minutes) still work."""
    return str((platform.clock.now() + timedelta(minutes=5)).isoformat())


async def test_an_unused_habilitation_is_listed_as_unjustified(platform: Platform) -> None:
    organisation = await platform.organisation(seed=611)
    idle, _ = await platform.active_holder(organisation, "idle@of.example")
    busy, _ = await platform.active_holder(organisation, "busy@of.example")
    busy_account = (await platform.habilitation(busy))["account_id"]

    platform.clock.advance(timedelta(days=91))
    issued = await create_operator(
        platform.identity.state.identity,
        Contact("Olivier", "Masson", "olivier.masson@francetravail.example"),
    )
    operator = await platform.activate(issued.login_id, issued.provisional_password)
    reset = await platform.identity_http.post(  # the busy holder logs in again today
        f"/v1/accounts/{busy_account}/password-reset", headers=bearer(operator)
    )
    await platform.activate(reset.json()["login_id"], reset.json()["provisional_password"])

    async def listed() -> list[str] | None:
        response = await platform.http.get(
            f"/v1/organisations/{organisation.id}/habilitations/unjustified",
            headers=bearer(operator),
        )
        assert response.status_code == 200, response.text
        ids = [h["habilitation_id"] for h in response.json()["habilitations"]]
        return ids if busy not in ids else None  # the login travels through Kafka

    assert await platform.eventually(listed) == [idle]


async def test_a_demand_answered_by_an_ending_and_a_justification_settles(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=612)
    ended, _ = await platform.active_holder(organisation, "ended@of.example")
    kept, _ = await platform.active_holder(organisation, "kept@of.example")
    issued = await demand(
        platform, organisation.id, platform.operator_token,
        kind="end_habilitations", habilitation_ids=[ended, kept],
    )  # fmt: skip
    assert issued.status_code == 201, issued.text
    demand_id = issued.json()["demand_id"]
    [event] = await platform.published(events.OperatorDemandIssued.event_type, organisation.id)
    assert (event["kind"], event["habilitation_ids"]) == ("end_habilitations", [ended, kept])

    justified = await justify(platform, organisation.rgc_token, demand_id, kept)
    assert justified.status_code == 200, justified.text
    assert justified.json()["settled_at"] is None  # the other one is still open
    ending = await platform.http.post(
        f"/v1/habilitations/{ended}/ending",
        json={"reason": "departure"},
        headers=bearer(organisation.rgc_token),
    )
    assert ending.status_code == 200, ending.text

    await asyncio.gather(*(settle_demands(platform.context) for _ in range(2)))
    assert await settle_demands(platform.context) == 0
    [settled] = await platform.published(events.OperatorDemandSettled.event_type, organisation.id)
    assert [(o["habilitation_id"], o["outcome"]) for o in settled["outcomes"]] == [
        (ended, "ended"),
        (kept, "justified"),
    ]
    assert settled["outcomes"][1]["justification"] == "en congé parental"
    listed = await platform.http.get(
        f"/v1/organisations/{organisation.id}/demands", headers=bearer(organisation.rgc_token)
    )
    assert listed.status_code == 200, listed.text
    [seen] = listed.json()["demands"]
    assert seen["settled_at"] is not None
    assert [i["status"] for i in seen["items"]] == ["ended", "justified"]
    assert (await platform.habilitation(kept))["status"] == "active"


async def test_an_unanswered_demand_is_enforced_and_the_person_is_refused(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=613)
    habilitation_id, user_token = await platform.active_holder(organisation, "absent@of.example")
    issued = await demand(
        platform, organisation.id, platform.operator_token,
        kind="end_habilitations", habilitation_ids=[habilitation_id], deadline=soon(platform),
    )  # fmt: skip
    assert issued.status_code == 201, issued.text
    demand_id = issued.json()["demand_id"]
    assert await settle_demands(platform.context) == 0  # not yet

    platform.clock.advance(timedelta(minutes=6))
    await asyncio.gather(*(settle_demands(platform.context) for _ in range(2)))
    [settled] = await platform.published(events.OperatorDemandSettled.event_type, organisation.id)
    assert settled["outcomes"] == [
        {"habilitation_id": habilitation_id, "outcome": "enforced", "justification": None}
    ]
    [ended] = await platform.published(events.HabilitationEnded.event_type, organisation.id)
    assert (ended["reason"], ended["ended_by"]) == ("operator_demand", None)
    view = await platform.habilitation(habilitation_id)
    assert (view["status"], view["end_reason"]) == ("ended", "operator_demand")

    async def session_gone() -> bool | None:  # identity ended the person's session (K9)
        probe = await platform.identity_http.delete(
            "/v1/sessions/current", headers=bearer(user_token)
        )
        return True if probe.status_code == 401 else None

    assert await platform.eventually(session_gone)
    late = await justify(platform, organisation.rgc_token, demand_id, habilitation_id)
    assert late.status_code == 409


async def test_a_revocation_enforced_vacates_the_post_and_the_head_holds_the_rights(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=614)
    head, _ = await platform.active_holder(organisation, "ines.roux@of.example", role="head")
    head_account = (await platform.habilitation(head))["account_id"]
    await platform.eventually(lambda: _head_known(platform, organisation.id, head_account))
    issued = await demand(
        platform, organisation.id, platform.operator_token, kind="revoke_rgc",
        deadline=soon(platform),
    )  # fmt: skip
    assert issued.status_code == 201, issued.text
    assert issued.json()["items"][0]["rgc_account_id"] == organisation.rgc_account_id
    [event] = await platform.published(events.OperatorDemandIssued.event_type, organisation.id)
    assert event["rgc_account_id"] == organisation.rgc_account_id
    refused = await justify(platform, organisation.rgc_token, issued.json()["demand_id"], head)
    assert refused.status_code == 409

    platform.clock.advance(timedelta(minutes=6))
    await settle_demands(platform.context)
    [vacated] = await platform.published(events.RgcPostVacated.event_type, organisation.id)
    assert (vacated["reason"], vacated["vacated_by"]) == ("operator_demand", None)
    assert vacated["former_rgc_account_id"] == organisation.rgc_account_id
    [settled] = await platform.published(events.OperatorDemandSettled.event_type, organisation.id)
    assert [o["outcome"] for o in settled["outcomes"]] == ["enforced"]
    post = await platform.post_of(organisation.id)
    assert post is not None
    assert (post["rgc_account_id"], post["rgc_rights_held_by"]) == (None, head_account)
    vacant = await demand(platform, organisation.id, platform.operator_token, kind="revoke_rgc")
    assert vacant.status_code == 409  # no RGC left to revoke


async def _head_known(platform: Platform, organisation_id: str, account_id: str) -> bool | None:
    post = await platform.post_of(organisation_id)
    return True if post is not None and post["head_account_id"] == account_id else None


async def test_only_operators_demand_and_bad_demands_change_nothing(platform: Platform) -> None:
    organisation = await platform.organisation(seed=615)
    habilitation_id, user_token = await platform.active_holder(organisation, "lea@of.example")
    unjustified = f"/v1/organisations/{organisation.id}/habilitations/unjustified"
    attempts = {
        "rgc lists": await platform.http.get(unjustified, headers=bearer(organisation.rgc_token)),
        "user lists": await platform.http.get(unjustified, headers=bearer(user_token)),
        "rgc demands": await demand(
            platform, organisation.id, organisation.rgc_token,
            kind="end_habilitations", habilitation_ids=[habilitation_id],
        ),
        "user reads": await platform.http.get(
            f"/v1/organisations/{organisation.id}/demands", headers=bearer(user_token)
        ),
    }  # fmt: skip
    assert {name: r.status_code for name, r in attempts.items()} == dict.fromkeys(attempts, 403)

    unknown = str(uuid.uuid4())
    bad = await demand(
        platform, organisation.id, platform.operator_token,
        kind="end_habilitations", habilitation_ids=[habilitation_id, unknown, habilitation_id],
    )  # fmt: skip
    assert bad.status_code == 422, bad.text
    assert [e["field"] for e in bad.json()["errors"]] == [
        "habilitation_ids[1]",
        "habilitation_ids[2]",
    ]
    past = await demand(
        platform, organisation.id, platform.operator_token, kind="end_habilitations",
        habilitation_ids=[habilitation_id], deadline="2020-01-01T00:00:00Z",
    )  # fmt: skip
    assert past.status_code == 422
    assert await platform.published(events.OperatorDemandIssued.event_type, organisation.id) == []
    listed = await platform.http.get(
        f"/v1/organisations/{organisation.id}/demands", headers=bearer(organisation.rgc_token)
    )
    assert listed.json()["demands"] == []
