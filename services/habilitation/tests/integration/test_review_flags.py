"""K14, K15: what the annual review leaves undecided at its deadline (default
"flag_to_operator") reaches the operators: listed per organisation and across organisations,
and answered by a demand issued from the flags; on the real PostgreSQL and Kafka."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from kairos_habilitation.service_layer.review_deadlines import remind_and_close
from kairos_identity.adapters.organisations import Contact
from kairos_identity.service_layer.operators import create_operator
from kairos_schemas import habilitation as events

Platform = Any  # the conftest's dataclass (test modules cannot import the conftest)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _closed_with_flags(
    platform: Platform, seed: int, emails: list[str]
) -> tuple[Any, list[str]]:
    """An organisation whose review closed with these people's habilitations left undecided."""
    organisation = await platform.organisation(seed=seed)
    left = [(await platform.active_holder(organisation, email))[0] for email in emails]
    opened = await platform.http.post(
        f"/v1/organisations/{organisation.id}/reviews", headers=bearer(platform.operator_token)
    )
    assert opened.status_code == 201, opened.text
    return organisation, left


async def _operator(platform: Platform) -> str:
    issued = await create_operator(
        platform.identity.state.identity,
        Contact("Olivier", "Masson", f"olivier.{uuid.uuid4().hex[:8]}@francetravail.example"),
    )
    return str(await platform.activate(issued.login_id, issued.provisional_password))


async def test_flags_are_listed_to_operators_and_answered_by_a_demand(platform: Platform) -> None:
    first, [a, b] = await _closed_with_flags(platform, 621, ["a@of.example", "b@of.example"])
    second, [c] = await _closed_with_flags(platform, 622, ["c@of.example"])
    async with platform.context.pool.acquire() as connection:
        deadline: datetime = await connection.fetchval("SELECT max(deadline) FROM review_campaign")
    platform.clock.set(deadline + timedelta(minutes=1))
    assert (await remind_and_close(platform.context))["closed"] == 2
    operator = await _operator(platform)

    every = await platform.http.get("/v1/habilitation-flags", headers=bearer(operator))
    assert every.status_code == 200, every.text
    listed = {flag["habilitation_id"]: flag for flag in every.json()["flags"]}
    assert set(listed) == {a, b, c}  # across organisations
    assert {listed[a]["status"], listed[a]["reason"]} == {"open", "annual_review_overdue"}
    assert listed[c]["organisation_id"] == second.id
    assert listed[a]["last_name"]  # who it is, for the operator to decide
    flagged_events = await platform.published(events.HabilitationFlagged.event_type, first.id)
    assert {e["habilitation_id"] for e in flagged_events} == {a, b}

    mine = await platform.http.get(
        f"/v1/organisations/{first.id}/habilitation-flags", headers=bearer(operator)
    )
    assert {f["habilitation_id"] for f in mine.json()["flags"]} == {a, b}  # per organisation
    rgc = await platform.http.get("/v1/habilitation-flags", headers=bearer(first.rgc_token))
    assert rgc.status_code in {401, 403}  # operators only

    demand = await platform.http.post(
        f"/v1/organisations/{first.id}/demands",
        json={"kind": "end_habilitations", "reason": "revue annuelle sans réponse",
              "flag_ids": [listed[a]["flag_id"]]},
        headers=bearer(operator),
    )  # fmt: skip
    assert demand.status_code == 201, demand.text
    assert [item["habilitation_id"] for item in demand.json()["items"]] == [a]
    [issued] = await platform.published(events.OperatorDemandIssued.event_type, first.id)
    assert issued["flag_ids"] == [listed[a]["flag_id"]]
    assert issued["habilitation_ids"] == [a]

    still_open = await platform.http.get("/v1/habilitation-flags", headers=bearer(operator))
    assert {f["habilitation_id"] for f in still_open.json()["flags"]} == {b, c}
    history = await platform.http.get(
        f"/v1/organisations/{first.id}/habilitation-flags?status=all", headers=bearer(operator)
    )
    answered = {f["habilitation_id"]: f for f in history.json()["flags"]}
    assert answered[a]["status"] == "demanded"
    assert answered[a]["demand_id"] == demand.json()["demand_id"]

    twice = await platform.http.post(
        f"/v1/organisations/{first.id}/demands",
        json={"kind": "end_habilitations", "reason": "encore", "flag_ids": [listed[a]["flag_id"]]},
        headers=bearer(operator),
    )  # fmt: skip
    assert twice.status_code == 422
    assert twice.json()["errors"][0]["field"] == "flag_ids[0]"
    elsewhere = await platform.http.post(
        f"/v1/organisations/{first.id}/demands",
        json={"kind": "end_habilitations", "reason": "x", "flag_ids": [listed[c]["flag_id"]]},
        headers=bearer(operator),
    )  # fmt: skip
    assert elsewhere.status_code == 422  # a flag of another organisation
