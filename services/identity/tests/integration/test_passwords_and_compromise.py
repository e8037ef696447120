"""K7 at NIST SP 800-63B-4 level, on the real PostgreSQL and Kafka: 15 characters at least for a
password used alone, a breached password refused offline, and an operator's flag of
compromise, which ends the account's sessions at once (as a logout does) and forces a new
password at the next login."""

from __future__ import annotations

from typing import Any

from kairos_schemas import identity as events

from .helpers import RGC_PASSWORD, bearer, organisation_with_rgc, outbox_events

IdentityApi = Any  # the conftest's dataclass (test modules cannot import the conftest)
NEW_PASSWORD = "Un nouveau secret choisi après l'alerte"


async def _change(api: IdentityApi, token: str, current: str, new: str) -> Any:
    return await api.http.post(
        "/v1/accounts/me/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(token),
    )


async def test_a_password_under_15_characters_or_breached_is_refused(
    identity_api: IdentityApi, operator_token: str
) -> None:
    rgc = await organisation_with_rgc(identity_api, operator_token, 71)
    too_short = await _change(identity_api, rgc["token"], RGC_PASSWORD, "Lyon, bureau 7!")
    assert too_short.status_code == 204, too_short.text  # 15 characters: enough
    token = await identity_api.token(rgc["login_id"], "Lyon, bureau 7!")
    short = await _change(identity_api, token, "Lyon, bureau 7!", "Lyon, bureau 8")
    assert short.status_code == 422  # 14 characters: too short for a password used alone
    assert "at least 15 characters" in short.json()["errors"][0]["message"]
    breached = await _change(identity_api, token, "Lyon, bureau 7!", "migrationschool")
    assert breached.status_code == 422  # in the breach corpus, nowhere else
    assert breached.json()["errors"][0]["field"] == "new_password"
    assert "breached" in breached.json()["errors"][0]["message"]


async def test_an_operator_flags_an_account_compromised(
    identity_api: IdentityApi, operator_token: str
) -> None:
    rgc = await organisation_with_rgc(identity_api, operator_token, 72)
    second = await identity_api.token(rgc["login_id"], RGC_PASSWORD)  # two sessions open
    path = f"/v1/accounts/{rgc['account_id']}/compromise"
    body = {"reason": "mot de passe vu dans un courriel transféré"}
    assert (
        await identity_api.http.post(path, json=body, headers=bearer(second))
    ).status_code == 403
    flagged = await identity_api.http.post(path, json=body, headers=bearer(operator_token))
    assert flagged.status_code == 200, flagged.text
    assert flagged.json()["sessions_ended"] == 2
    assert flagged.json()["password_change_required"] is True

    organisation = f"/v1/organisations/{rgc['organisation_id']}"
    for token in (rgc["token"], second):  # both sessions ended at once
        assert (await identity_api.http.get(organisation, headers=bearer(token))).status_code == 401
    published = await outbox_events(identity_api)
    [flag] = [e for e in published if isinstance(e, events.AccountFlaggedCompromised)]
    assert flag.account_id == rgc["account_id"]
    assert flag.reason == body["reason"]
    ended = [
        e
        for e in published
        if isinstance(e, events.SessionEnded) and e.reason == "account_compromised"
    ]
    assert len(ended) == 2  # one per session, as a logout: every service refuses them

    login = await identity_api.login(rgc["login_id"], RGC_PASSWORD)
    assert login.status_code == 201
    assert login.json()["password_change_required"] is True
    restricted = login.json()["access_token"]
    assert (
        await identity_api.http.get(organisation, headers=bearer(restricted))
    ).status_code == 403
    same = await _change(identity_api, restricted, RGC_PASSWORD, RGC_PASSWORD)
    assert same.status_code == 422  # the flagged password cannot be kept
    changed = await _change(identity_api, restricted, RGC_PASSWORD, NEW_PASSWORD)
    assert changed.status_code == 204, changed.text
    full = await identity_api.login(rgc["login_id"], NEW_PASSWORD)
    assert full.json()["password_change_required"] is False
    assert (await identity_api.login(rgc["login_id"], RGC_PASSWORD)).status_code == 401

    unknown = await identity_api.http.post(
        "/v1/accounts/00000000-0000-0000-0000-000000000000/compromise", json=body,
        headers=bearer(operator_token),
    )  # fmt: skip
    assert unknown.status_code == 404
