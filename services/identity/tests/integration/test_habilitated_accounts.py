"""K11 on the identity side: a habilitation recorded by an RGC (a Kafka event) becomes the
person's account, with no secret in any event; the RGC retrieves the provisional credentials
once, and only for its own organisation. Operators reset passwords (K7) and renew access (K2)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from kairos_devstack.testing import valid_siret
from kairos_schemas import Event, to_cloudevent
from kairos_schemas import habilitation as habilitation_events
from kairos_schemas import identity as events

IdentityApi = Any  # the conftest's dataclass (test modules cannot import the conftest)
RGC_PASSWORD = "Le responsable des comptes, 2026 !"
USER_PASSWORD = "Une formatrice qui déclare les entrées"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _organisation_with_rgc(
    api: IdentityApi, operator_token: str, seed: int
) -> dict[str, Any]:
    body = {
        "siret": valid_siret(seed), "nda": "84690000069", "legal_name": f"Organisme {seed}",
        "address": {"street": "1 place Bellecour", "postal_code": "69002", "city": "Lyon"},
        "head": {"first_name": "Inès", "last_name": "Roux", "function": "Directrice",
                 "email": f"ines.roux.{seed}@of.example"},
        "rgc": {"first_name": "Paul", "last_name": f"Rgc{seed}", "email": f"rgc.{seed}@of.example"},
        "terms": {"version": "2017-09-15", "accepted_on": "2026-03-01"},
    }  # fmt: skip
    organisation_id = (await api.http.post("/v1/organisations", json=body)).json()[
        "organisation_id"
    ]
    rgc = (await api.http.post(
        f"/v1/organisations/{organisation_id}/validation", headers=bearer(operator_token)
    )).json()  # fmt: skip
    token = await api.activate(rgc["login_id"], rgc["provisional_password"], RGC_PASSWORD)
    return {"organisation_id": organisation_id, "token": token, **rgc}


async def _publish_habilitation(kafka: str, organisation_id: str, last_name: str) -> str:
    habilitation_id = str(uuid.uuid4())
    event = habilitation_events.HabilitationRecorded(
        habilitation_id=habilitation_id, organisation_id=organisation_id, role="user",
        person=events.Person(first_name="Fanny", last_name=last_name,
                             email=f"fanny.{last_name.lower()}@of.example"),
        function="formatrice",
        authorisation=habilitation_events.SignedAuthorisation(
            signed_by="Inès Roux", signed_on="2026-03-01",
            document_sha256=hashlib.sha256(b"autorisation signee").hexdigest(),
        ),
        employee_attested=True, recorded_by=str(uuid.uuid4()), recorded_at="2026-03-02T09:00:00Z",
    )  # fmt: skip
    await _publish(kafka, event, times=2)  # delivered twice: one account all the same
    return habilitation_id


async def _publish(kafka: str, event: Event, *, times: int = 1) -> None:
    record = to_cloudevent(event, source="/kairos/habilitation").to_kafka()
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    try:
        for _ in range(times):
            await producer.send_and_wait(
                habilitation_events.TOPIC,
                record.value,
                key=record.key,
                headers=list(record.headers),
            )
    finally:
        await producer.stop()


async def _account_of(api: IdentityApi, habilitation_id: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            row = await api.context.pool.fetchrow(
                "SELECT id, login_id, status, password_hash FROM account"
                " WHERE habilitation_id = $1",
                uuid.UUID(habilitation_id),
            )
            if row is not None:
                return dict(row)
            await asyncio.sleep(0.1)


async def test_a_recorded_habilitation_becomes_an_account_whose_credentials_are_retrieved_once(
    identity_api: IdentityApi, operator_token: str, kafka_bootstrap_servers: str
) -> None:
    mine = await _organisation_with_rgc(identity_api, operator_token, seed=101)
    other = await _organisation_with_rgc(identity_api, operator_token, seed=102)
    habilitation_id = await _publish_habilitation(
        kafka_bootstrap_servers, mine["organisation_id"], "Lucas"
    )
    account = await _account_of(identity_api, habilitation_id)
    assert account["status"] == "provisional"
    assert account["password_hash"] is None, "no credentials exist before the RGC retrieves them"
    await asyncio.sleep(1.0)  # the duplicate delivery has had its chance
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
    await _publish(kafka_bootstrap_servers, ended)
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
    rgc = await _organisation_with_rgc(identity_api, operator_token, seed=103)
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
    rgc = await _organisation_with_rgc(identity_api, operator_token, seed=104)
    renewed = await identity_api.http.post(
        f"/v1/organisations/{rgc['organisation_id']}/renewal", headers=bearer(operator_token)
    )
    assert renewed.status_code == 200
    expires = renewed.json()["access_expires_at"]
    assert expires.startswith("2032-03-02"), "renewed from the end of the current period"


async def test_an_organisation_is_visible_to_operators_and_its_own_people_only(
    identity_api: IdentityApi, operator_token: str
) -> None:
    mine = await _organisation_with_rgc(identity_api, operator_token, seed=105)
    other = await _organisation_with_rgc(identity_api, operator_token, seed=106)
    url = f"/v1/organisations/{mine['organisation_id']}"
    as_operator = await identity_api.http.get(url, headers=bearer(operator_token))
    assert as_operator.json()["status"] == "active"
    assert as_operator.json()["zone"] == "metropolitan"
    assert (await identity_api.http.get(url, headers=bearer(mine["token"]))).status_code == 200
    assert (await identity_api.http.get(url, headers=bearer(other["token"]))).status_code == 404
