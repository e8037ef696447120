"""K6 through the running platform: a user whose provisional credentials lapsed unused, the
habilitation still active, gets new ones from the RGC — shown once, 7 days again — and the
lapse is lifted in every service: the declaration service, which refused the lapsed account
from its own view of the identity events, accepts the user's declarations again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kairos_devstack.platform import bearer
from kairos_identity.service_layer.deadlines import apply_deadlines

Platform = Any  # kairos_devstack.platform.Platform (test modules cannot import the conftest)
SESSION = {"action_number": "84_AF_0000027182", "session_number": "84_SE_0000081828"}


async def test_the_rgc_reissues_lapsed_credentials_and_the_user_declares_again(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=751)
    recorded = await platform.habilitate(organisation.id, organisation.rgc_token, "u@of.example")
    habilitation_id = recorded.json()["habilitation_id"]
    account_id = await platform.active_account(habilitation_id)
    url = f"/v1/accounts/{account_id}/provisional-credentials"
    first = await platform.identity_http.get(url, headers=bearer(organisation.rgc_token))
    assert first.status_code == 200, first.text
    not_lapsed = await platform.identity_http.post(url, headers=bearer(organisation.rgc_token))
    assert not_lapsed.status_code == 409, not_lapsed.text

    await platform.advance(timedelta(days=8))  # Tuesday 10 March: the 7 days ended last night
    assert (await apply_deadlines(platform.identity.state.identity)).lapsed == 1
    old = await platform.identity_http.post(
        "/v1/sessions", json={"login_id": first.json()["login_id"],
                              "password": first.json()["provisional_password"]},
    )  # fmt: skip
    assert old.status_code == 401

    rgc_token = await platform.relogin(organisation.rgc_token)
    by_operator = await platform.identity_http.post(url, headers=bearer(platform.operator_token))
    assert by_operator.status_code == 403  # operators reset passwords; the RGC hands these over
    reissued = await platform.identity_http.post(url, headers=bearer(rgc_token))
    assert reissued.status_code == 201, reissued.text
    assert reissued.headers["cache-control"] == "no-store"
    body = reissued.json()
    assert body["login_id"] == first.json()["login_id"]
    assert body["provisional_password"] != first.json()["provisional_password"]
    assert body["provisional_until"] == "2026-03-17T23:00:00Z"  # the end of 17 March, Paris
    again = await platform.identity_http.post(url, headers=bearer(rgc_token))
    assert again.status_code == 409  # shown once: the account is no longer lapsed

    token = await platform.activate(body["login_id"], body["provisional_password"])
    session = {**SESSION, "starts_on": "2026-02-02", "ends_on": "2026-06-30", "weekly_hours": 35}
    # accepted once the reissue reached the declaration service
    assert (await platform.register_session(organisation.id, token, session)).status_code == 201
