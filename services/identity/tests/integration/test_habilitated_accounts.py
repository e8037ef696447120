"""K11 on the identity side: a habilitation recorded by an RGC (a Kafka event) becomes the
person's account, with no secret in any event; the RGC retrieves the provisional credentials
once, and only for its own organisation. Operators reset passwords (K7) and renew access (K2)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from kairos_schemas import habilitation as habilitation_events

from .helpers import (
    RGC_PASSWORD,
    USER_PASSWORD,
    account_where,
    bearer,
    consumed_past,
    habilitation_recorded,
    organisation_with_rgc,
    publish,
    publish_located,
)

IdentityApi = Any  # the conftest's dataclass (test modules cannot import the conftest)


async def test_a_recorded_habilitation_becomes_an_account_whose_credentials_are_retrieved_once(
    identity_api: IdentityApi, operator_token: str, kafka_bootstrap_servers: str
) -> None:
    mine = await organisation_with_rgc(identity_api, operator_token, seed=101)
    other = await organisation_with_rgc(identity_api, operator_token, seed=102)
    recorded = habilitation_recorded(mine["organisation_id"], "Lucas")
    habilitation_id = recorded.habilitation_id
    _, duplicate = await publish_located(kafka_bootstrap_servers, recorded, times=2)
    account = await account_where(identity_api, "habilitation_id", habilitation_id)
    assert account["status"] == "provisional"
    assert account["password_hash"] is None, "no credentials exist before the RGC retrieves them"
    await consumed_past(identity_api, duplicate)  # the second delivery handled too: one account
    count = await identity_api.context.pool.fetchval(
        "SELECT count(*) FROM account WHERE habilitation_id = $1", uuid.UUID(habilitation_id)
    )
    assert count == 1

    url = f"/v1/accounts/{account['id']}/provisional-credentials"
    foreign = await identity_api.http.get(url, headers=bearer(other["token"]))
    assert foreign.status_code == 403
    retrieved = await identity_api.http.get(url, headers=bearer(mine["token"]))
    assert retrieved.status_code == 200, retrieved.text
    assert retrieved.headers["cache-control"] == "no-store"
    credentials = retrieved.json()
    again = await identity_api.http.get(url, headers=bearer(mine["token"]))
    assert again.status_code == 409
    token = await identity_api.activate(
        credentials["login_id"], credentials["provisional_password"], USER_PASSWORD
    )

    # The habilitation ends (K13): the account is disabled and its session ends at once.
    ended = habilitation_events.HabilitationEnded(
        habilitation_id=habilitation_id, organisation_id=mine["organisation_id"],
        reason="departure", ended_at=identity_api.clock.now(),
    )  # fmt: skip
    await publish(kafka_bootstrap_servers, ended)
    async with asyncio.timeout(30):
        while (await identity_api.context.pool.fetchval(  # noqa: ASYNC110 - polls the database
            "SELECT status FROM account WHERE id = $1", account["id"]
        )) != "disabled":  # fmt: skip
            await asyncio.sleep(0.1)
    assert (await identity_api.http.delete(
        "/v1/sessions/current", headers=bearer(token)
    )).status_code == 401  # fmt: skip
    assert (await identity_api.login(credentials["login_id"], USER_PASSWORD)).status_code == 401

    created = [
        row for row in await identity_api.context.pool.fetch("SELECT value FROM outbox")
        if habilitation_id.encode() in bytes(row["value"])
    ]  # fmt: skip
    assert len(created) == 1, "one AccountCreated for the habilitation"
    assert credentials["provisional_password"].encode() not in bytes(created[0]["value"])


async def test_an_operator_reset_gives_new_provisional_credentials_and_ends_sessions(
    identity_api: IdentityApi, operator_token: str
) -> None:
    rgc = await organisation_with_rgc(identity_api, operator_token, seed=103)
    reset = await identity_api.http.post(
        f"/v1/accounts/{rgc['account_id']}/password-reset", headers=bearer(operator_token)
    )
    assert reset.status_code == 201, reset.text
    assert (await identity_api.http.delete(
        "/v1/sessions/current", headers=bearer(rgc["token"])
    )).status_code == 401  # fmt: skip
    assert (await identity_api.login(rgc["login_id"], RGC_PASSWORD)).status_code == 401
    new = reset.json()
    first = await identity_api.login(rgc["login_id"], new["provisional_password"])
    assert first.json()["password_change_required"] is True
    identity_api.clock.advance(timedelta(days=22))
    expired = await identity_api.login(rgc["login_id"], new["provisional_password"])
    assert expired.status_code == 401
    assert expired.json()["type"].endswith("/provisional-credentials-expired")
    forbidden = await identity_api.http.post(
        f"/v1/accounts/{rgc['account_id']}/password-reset", headers=bearer(rgc["token"])
    )
    assert forbidden.status_code == 401


async def test_an_operator_renews_access_for_three_more_years(
    identity_api: IdentityApi, operator_token: str
) -> None:
    rgc = await organisation_with_rgc(identity_api, operator_token, seed=104)
    renewed = await identity_api.http.post(
        f"/v1/organisations/{rgc['organisation_id']}/renewal", headers=bearer(operator_token)
    )
    assert renewed.status_code == 200
    expires = renewed.json()["access_expires_at"]
    assert expires.startswith("2032-03-02"), "renewed from the end of the current period"


async def test_an_organisation_is_visible_to_operators_and_its_own_people_only(
    identity_api: IdentityApi, operator_token: str
) -> None:
    mine = await organisation_with_rgc(identity_api, operator_token, seed=105)
    other = await organisation_with_rgc(identity_api, operator_token, seed=106)
    url = f"/v1/organisations/{mine['organisation_id']}"
    as_operator = await identity_api.http.get(url, headers=bearer(operator_token))
    assert as_operator.json()["status"] == "active"
    assert as_operator.json()["zone"] == "metropolitan"
    assert (await identity_api.http.get(url, headers=bearer(mine["token"]))).status_code == 200
    assert (await identity_api.http.get(url, headers=bearer(other["token"]))).status_code == 404
