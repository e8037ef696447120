"""A SIRET is never blocked for good (K1), on the real PostgreSQL and Kafka: an operator
rejects a request with a reason, a request left without a decision expires (once, whatever
the number of replicas), a rejected, expired or withdrawn organisation's SIRET applies again
as a new organisation with the old one's history kept, and adhesion requests are throttled per
client address."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from kairos_devstack.testing import valid_siret
from kairos_identity.service_layer.deadlines import apply_deadlines
from kairos_schemas import identity as events

from .helpers import bearer, outbox_events

IdentityApi = Any  # the conftest's dataclass (test modules cannot import the conftest)
OPERATOR_PASSWORD = "Opérateur de garde, bureau 42"  # the conftest's operator


def adhesion(siret: str) -> dict[str, Any]:
    return {
        "siret": siret, "nda": "11755555575", "legal_name": "Formations du Faubourg",
        "address": {"street": "12 rue du Faubourg", "postal_code": "75011", "city": "Paris"},
        "head": {"first_name": "Hélène", "last_name": "Dubois", "function": "Directrice",
                 "email": "helene.dubois@faubourg.example"},
        "rgc": {"first_name": "Rémi", "last_name": "Garnier",
                "email": "remi.garnier@faubourg.example"},
        "terms": {"version": "2017-09-15", "accepted_on": "2026-02-27"},
    }  # fmt: skip


async def _request(api: IdentityApi, siret: str) -> httpx.Response:
    return await api.http.post("/v1/organisations", json=adhesion(siret))


async def _status(api: IdentityApi, organisation_id: str) -> str:
    return str(
        await api.context.pool.fetchval(
            "SELECT status FROM organisation WHERE id = $1::uuid", organisation_id
        )
    )


async def test_an_operator_rejects_a_request_and_the_siret_applies_again(
    identity_api: IdentityApi, operator_token: str
) -> None:
    siret = valid_siret(61)
    first = (await _request(identity_api, siret)).json()["organisation_id"]
    assert (await _request(identity_api, siret)).status_code == 409  # still live: one per SIRET
    path = f"/v1/organisations/{first}/rejection"
    reason = {"reason": "NDA inconnu de la DREETS"}
    assert (await identity_api.http.post(path, json=reason)).status_code == 401
    bad = await identity_api.http.post(path, json={}, headers=bearer(operator_token))
    assert bad.status_code == 422
    assert await _status(identity_api, first) == "requested"  # a bad call changes nothing
    rejected = await identity_api.http.post(path, json=reason, headers=bearer(operator_token))
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    again = await identity_api.http.post(path, json=reason, headers=bearer(operator_token))
    assert again.status_code == 409  # only a pending request is rejected
    validation = await identity_api.http.post(
        f"/v1/organisations/{first}/validation", headers=bearer(operator_token)
    )
    assert validation.status_code == 409  # a rejected request is never validated

    [event] = [
        e for e in await outbox_events(identity_api) if isinstance(e, events.AdhesionRejected)
    ]
    assert event.organisation_id == first
    assert event.reason == "NDA inconnu de la DREETS"
    assert event.head.email == "helene.dubois@faubourg.example"  # the head who asked is told

    second = await _request(identity_api, siret)
    assert second.status_code == 201, second.text
    assert second.json()["organisation_id"] != first  # a new organisation...
    assert await _status(identity_api, first) == "rejected"  # ...the old one's history kept
    assert await identity_api.context.pool.fetchval(
        "SELECT count(*) FROM organisation WHERE siret = $1", siret
    ) == 2  # fmt: skip


async def test_a_request_left_without_decision_expires_once_and_the_siret_applies_again(
    identity_api: IdentityApi,
) -> None:
    siret = valid_siret(62)
    organisation_id = (await _request(identity_api, siret)).json()["organisation_id"]
    identity_api.clock.advance(timedelta(days=30) - timedelta(minutes=1))
    await apply_deadlines(identity_api.context)
    assert await _status(identity_api, organisation_id) == "requested"
    identity_api.clock.advance(timedelta(minutes=1))
    # Three replicas' passes at once: the request expires once, with one event.
    await asyncio.gather(*(apply_deadlines(identity_api.context) for _ in range(3)))
    assert await _status(identity_api, organisation_id) == "request_expired"
    expired = [e for e in await outbox_events(identity_api)
               if isinstance(e, events.AdhesionRequestExpired)]  # fmt: skip
    assert len(expired) == 1
    assert expired[0].siret == siret
    assert expired[0].head.email == "helene.dubois@faubourg.example"
    assert expired[0].expired_at == identity_api.clock.now()

    again = await _request(identity_api, siret)
    assert again.status_code == 201, again.text


async def test_a_withdrawn_or_expired_organisations_siret_applies_again(
    identity_api: IdentityApi, operator_token: str
) -> None:
    withdrawn_siret, expired_siret = valid_siret(63), valid_siret(64)
    withdrawn = (await _request(identity_api, withdrawn_siret)).json()["organisation_id"]
    await identity_api.http.post(
        f"/v1/organisations/{withdrawn}/validation", headers=bearer(operator_token)
    )
    withdrawal = await identity_api.http.post(
        f"/v1/organisations/{withdrawn}/withdrawal", json={"reason": "manquements répétés"},
        headers=bearer(operator_token),
    )  # fmt: skip
    assert withdrawal.status_code == 200, withdrawal.text
    assert (await _request(identity_api, withdrawn_siret)).status_code == 201

    old = (await _request(identity_api, expired_siret)).json()["organisation_id"]
    await identity_api.http.post(
        f"/v1/organisations/{old}/validation", headers=bearer(operator_token)
    )
    identity_api.clock.advance(timedelta(days=3 * 366))
    await apply_deadlines(identity_api.context)
    assert await _status(identity_api, old) == "expired"
    assert (await _request(identity_api, expired_siret)).status_code == 201
    operator = await identity_api.context.pool.fetchval(
        "SELECT login_id FROM account WHERE role = 'operator'"
    )
    token = await identity_api.token(operator, OPERATOR_PASSWORD)  # 3 years later
    renewal = await identity_api.http.post(
        f"/v1/organisations/{old}/renewal", headers=bearer(token)
    )
    assert renewal.status_code == 409  # the new adhesion holds the SIRET now
    assert renewal.json()["errors"][0]["field"] == "siret"
    assert await _status(identity_api, old) == "expired"


async def test_adhesion_requests_are_throttled_per_client_address(
    identity_api: IdentityApi,
) -> None:
    free = identity_api.context.adhesion_throttle.free_attempts
    for seed in range(free):  # bad requests count too: each one reached the service
        body = adhesion(valid_siret(70 + seed)) | {"nda": "99123456789"}
        response = await identity_api.http.post("/v1/organisations", json=body)
        assert response.status_code == 422, response.text
    refused = await _request(identity_api, valid_siret(90))
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert refused.json()["type"].endswith("adhesion-throttled")
    assert await identity_api.context.pool.fetchval("SELECT count(*) FROM organisation") == 0

    other = httpx.ASGITransport(app=identity_api.app, client=("203.0.113.7", 4242))
    async with httpx.AsyncClient(transport=other, base_url="http://identity") as elsewhere:
        accepted = await elsewhere.post("/v1/organisations", json=adhesion(valid_siret(91)))
    assert accepted.status_code == 201, accepted.text  # another address is not slowed down

    identity_api.clock.advance(timedelta(seconds=60))
    assert (await _request(identity_api, valid_siret(90))).status_code == 201
    assert (await _request(identity_api, valid_siret(92))).status_code == 429  # 2 minutes now
