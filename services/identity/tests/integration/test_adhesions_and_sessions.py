"""The identity service over HTTP, on the real PostgreSQL and Kafka, with a clock the test
moves: adhesions (K1-K3), provisional credentials and password change (K5-K7), throttling
(K8), sessions (K9) and access hours by zone (K4)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
import structlog

from kairos_devstack.testing import valid_siret
from kairos_identity.config import IdentitySettings
from kairos_shared.logging import configure_logging

IdentityApi = Any  # the conftest's dataclass (test modules cannot import the conftest)
RGC_PASSWORD = "Le responsable des comptes, 2026 !"


def adhesion(siret: str, postal_code: str = "75011", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "siret": siret,
        "nda": "11755555575",
        "legal_name": "Formations du Faubourg",
        "address": {"street": "12 rue du Faubourg", "postal_code": postal_code, "city": "Paris"},
        "head": {
            "first_name": "Hélène", "last_name": "Dubois", "function": "Directrice",
            "email": "helene.dubois@faubourg.example",
        },
        "rgc": {
            "first_name": "Rémi", "last_name": "Garnier", "email": "remi.garnier@faubourg.example",
        },
        "terms": {"version": "2017-09-15", "accepted_on": "2026-02-27"},
    }  # fmt: skip
    body.update(changes)
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _outbox(identity_api: IdentityApi) -> list[asyncpg.Record]:
    return list(await identity_api.context.pool.fetch("SELECT * FROM outbox ORDER BY id"))


async def _types(identity_api: IdentityApi) -> list[str]:
    return [dict(zip(r["header_names"], r["header_values"], strict=True))["ce_type"].decode()
            for r in await _outbox(identity_api)]  # fmt: skip


async def test_bad_identifiers_are_named_and_nothing_is_stored(identity_api: IdentityApi) -> None:
    response = await identity_api.http.post(
        "/v1/organisations",
        json=adhesion("73282932000075", postal_code="96000", nda="99123456789"),
    )
    assert response.status_code == 422
    fields = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert set(fields) == {"siret", "nda", "address.postal_code"}
    assert "checksum" in fields["siret"] or "Luhn" in fields["siret"]
    assert "99" in fields["nda"]
    assert await identity_api.context.pool.fetchval("SELECT count(*) FROM organisation") == 0
    assert await _outbox(identity_api) == []


async def test_adhesion_validation_and_the_rgc_first_login(
    identity_api: IdentityApi, operator_token: str
) -> None:
    siret = valid_siret(1)
    created = await identity_api.http.post("/v1/organisations", json=adhesion(siret))
    assert created.status_code == 201, created.text
    organisation_id = created.json()["organisation_id"]
    duplicate = await identity_api.http.post("/v1/organisations", json=adhesion(siret))
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["field"] == "siret"

    anonymous = await identity_api.http.post(f"/v1/organisations/{organisation_id}/validation")
    assert anonymous.status_code == 401
    validated = await identity_api.http.post(
        f"/v1/organisations/{organisation_id}/validation", headers=bearer(operator_token)
    )
    assert validated.status_code == 201, validated.text
    rgc = validated.json()
    assert rgc["login_id"] == "rgarnier"
    # validated Monday 2 March: 21 days, to the end of Monday 23 March in Paris (K6)
    assert rgc["provisional_until"] == "2026-03-23T23:00:00Z"
    again = await identity_api.http.post(
        f"/v1/organisations/{organisation_id}/validation", headers=bearer(operator_token)
    )
    assert again.status_code == 409

    provisional = await identity_api.login(rgc["login_id"], rgc["provisional_password"])
    assert provisional.json()["password_change_required"] is True
    restricted = provisional.json()["access_token"]
    assert (await identity_api.http.post(
        f"/v1/organisations/{organisation_id}/reinstatement", headers=bearer(restricted)
    )).status_code == 403  # fmt: skip
    weak = await identity_api.http.post(
        "/v1/accounts/me/password",
        json={"current_password": rgc["provisional_password"], "new_password": "password1234"},
        headers=bearer(restricted),
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["field"] == "new_password"
    full = await identity_api.activate(rgc["login_id"], rgc["provisional_password"], RGC_PASSWORD)
    stored = await identity_api.context.pool.fetchval(
        "SELECT password_hash FROM account WHERE login_id = $1", rgc["login_id"]
    )
    assert stored.startswith("$argon2id$"), "passwords are stored as argon2id hashes only (K5)"
    assert RGC_PASSWORD not in stored
    logout = await identity_api.http.delete("/v1/sessions/current", headers=bearer(full))
    assert logout.status_code == 204
    assert (
        await identity_api.http.delete("/v1/sessions/current", headers=bearer(full))
    ).status_code == 401

    types = await _types(identity_api)
    for expected in (
        "adhesion-requested",
        "adhesion-validated",
        "account-created",
        "account-activated",
        "session-started",
        "session-ended",
    ):
        assert f"fr.kairos.identity.{expected}.v1" in types
    secrets = [rgc["provisional_password"], RGC_PASSWORD, OPERATOR_SECRET, full, restricted]
    for row in await _outbox(identity_api):
        blob = bytes(row["value"]) + b"".join(bytes(v) for v in row["header_values"])
        assert not any(secret.encode() in blob for secret in secrets), "a secret reached an event"


OPERATOR_SECRET = "Opérateur de garde, bureau 42"


async def test_rgcs_of_the_same_name_validated_at_once_get_distinct_login_ids(
    identity_api: IdentityApi, operator_token: str
) -> None:
    """Both validations pick a login id from the same name: the second waits for the first's
    (it was a duplicate-key 500)."""
    organisations = []
    for seed in (31, 32, 33):
        created = await identity_api.http.post(
            "/v1/organisations", json=adhesion(valid_siret(seed))
        )
        assert created.status_code == 201, created.text
        organisations.append(created.json()["organisation_id"])
    validations = await asyncio.gather(*(
        identity_api.http.post(f"/v1/organisations/{o}/validation", headers=bearer(operator_token))
        for o in organisations
    ))  # fmt: skip
    assert [v.status_code for v in validations] == [201, 201, 201], [v.text for v in validations]
    assert sorted(v.json()["login_id"] for v in validations) == [
        "rgarnier", "rgarnier2", "rgarnier3"
    ]  # fmt: skip


async def test_refresh_rotates_and_logout_ends_the_refresh_path(
    identity_api: IdentityApi, operator_token: str
) -> None:
    tokens = (await identity_api.login("operrin", OPERATOR_SECRET)).json()
    refreshed = await identity_api.http.post(
        "/v1/sessions/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    reused = await identity_api.http.post(
        "/v1/sessions/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert reused.status_code == 401, "a refresh token is used once"
    new = refreshed.json()
    await identity_api.http.delete("/v1/sessions/current", headers=bearer(new["access_token"]))
    after_logout = await identity_api.http.post(
        "/v1/sessions/refresh", json={"refresh_token": new["refresh_token"]}
    )
    assert after_logout.status_code == 401


async def test_failed_logins_slow_down_then_lock_and_the_lock_expires(
    identity_api: IdentityApi, operator_token: str
) -> None:
    policy = identity_api.context.throttle
    failures = slowed_down = 0
    while failures < policy.lock_threshold:
        response = await identity_api.login("operrin", "wrong password!")
        if response.status_code == 429:  # must wait: the right password is refused too
            slowed_down += 1
            assert (await identity_api.login("operrin", OPERATOR_SECRET)).status_code == 429
            retry_after = datetime.fromisoformat(response.json()["retry_after"])
            identity_api.clock.set(retry_after)
            continue
        assert response.status_code == 401
        failures += 1
    assert slowed_down == policy.lock_threshold - policy.free_attempts
    locked = await identity_api.login("operrin", OPERATOR_SECRET)
    assert locked.status_code == 429
    assert locked.json()["locked"] is True
    identity_api.clock.advance(policy.lock_duration)
    assert (await identity_api.login("operrin", OPERATOR_SECRET)).status_code == 201


async def test_access_hours_refuse_of_roles_by_zone_but_not_operators(
    identity_api: IdentityApi, operator_token: str
) -> None:
    accounts = {}
    for seed, postal_code in ((70, "75011"), (71, "97400")):
        created = await identity_api.http.post(
            "/v1/organisations", json=adhesion(valid_siret(seed), postal_code=postal_code)
        )
        organisation_id = created.json()["organisation_id"]
        rgc = (await identity_api.http.post(
            f"/v1/organisations/{organisation_id}/validation", headers=bearer(operator_token)
        )).json()  # fmt: skip
        await identity_api.activate(rgc["login_id"], rgc["provisional_password"], RGC_PASSWORD)
        accounts[postal_code] = rgc["login_id"]

    identity_api.clock.set(datetime(2026, 3, 9, 4, 0, tzinfo=UTC))  # Mon 05:00 Paris, 08:00 Réunion
    paris = await identity_api.login(accounts["75011"], RGC_PASSWORD)
    assert paris.status_code == 403
    assert paris.json()["reason"] == "before_opening"
    assert paris.json()["next_opening"].startswith("2026-03-09T06:30")
    assert (await identity_api.login(accounts["97400"], RGC_PASSWORD)).status_code == 201
    identity_api.clock.set(datetime(2026, 3, 14, 10, 0, tzinfo=UTC))  # a Saturday
    assert (await identity_api.login(accounts["97400"], RGC_PASSWORD)).json()["reason"] == "weekend"
    assert (await identity_api.login("operrin", OPERATOR_SECRET)).status_code == 201


async def test_suspension_ends_the_organisations_sessions_at_once(
    identity_api: IdentityApi, operator_token: str
) -> None:
    created = await identity_api.http.post("/v1/organisations", json=adhesion(valid_siret(3)))
    organisation_id = created.json()["organisation_id"]
    rgc = (await identity_api.http.post(
        f"/v1/organisations/{organisation_id}/validation", headers=bearer(operator_token)
    )).json()  # fmt: skip
    token = await identity_api.activate(rgc["login_id"], rgc["provisional_password"], RGC_PASSWORD)
    suspended = await identity_api.http.post(
        f"/v1/organisations/{organisation_id}/suspension",
        json={"reason": "non-respect des CGU §8"},
        headers=bearer(operator_token),
    )
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    assert (
        await identity_api.http.delete("/v1/sessions/current", headers=bearer(token))
    ).status_code == 401
    types = await _types(identity_api)
    assert types[-2:] == [
        "fr.kairos.identity.organisation-suspended.v1",
        "fr.kairos.identity.session-ended.v1",
    ]
    refused = await identity_api.login(rgc["login_id"], RGC_PASSWORD)
    assert refused.status_code == 403, "a suspended organisation's people cannot log in again"
    assert refused.json()["organisation_status"] == "suspended"
    reinstated = await identity_api.http.post(
        f"/v1/organisations/{organisation_id}/reinstatement", headers=bearer(operator_token)
    )
    assert reinstated.json()["status"] == "active"
    assert (await identity_api.login(rgc["login_id"], RGC_PASSWORD)).status_code == 201
    twice = await identity_api.http.post(
        f"/v1/organisations/{organisation_id}/reinstatement", headers=bearer(operator_token)
    )
    assert twice.status_code == 409


def test_settings_never_show_the_signing_key() -> None:
    settings = IdentitySettings(signing_key_pem="-----BEGIN PRIVATE KEY-----secret")
    assert "secret" not in repr(settings)


pytestmark = pytest.mark.filterwarnings("error")


async def test_no_password_or_token_reaches_a_log_line(
    identity_api: IdentityApi, operator_token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("identity", level="DEBUG", fmt="json")
    try:
        created = await identity_api.http.post("/v1/organisations", json=adhesion(valid_siret(11)))
        organisation_id = created.json()["organisation_id"]
        rgc = (await identity_api.http.post(
            f"/v1/organisations/{organisation_id}/validation", headers=bearer(operator_token)
        )).json()  # fmt: skip
        await identity_api.login(rgc["login_id"], "a wrong password, logged?")
        tokens = (await identity_api.login(rgc["login_id"], rgc["provisional_password"])).json()
        await identity_api.http.post(
            "/v1/accounts/me/password",
            json={"current_password": rgc["provisional_password"], "new_password": RGC_PASSWORD},
            headers=bearer(tokens["access_token"]),
        )
        logging.getLogger("kairos.test").info("probe %s", "end")
        output = capsys.readouterr().err + capsys.readouterr().out
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    assert "probe end" in output, "the log capture must have worked"
    secrets = [rgc["provisional_password"], RGC_PASSWORD, "a wrong password, logged?"]
    secrets += [tokens["access_token"], tokens["refresh_token"], operator_token]
    for secret in secrets:
        assert secret not in output
