"""``kairos organisation reject`` (K1), ``kairos account compromised`` (K7) and ``kairos
habilitations flags`` (K14) against the real apps (in-process, see the conftest)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kairos_devstack.platform import PASSWORD, bearer
from kairos_devstack.testing import adhesion_request
from kairos_habilitation.service_layer.review_deadlines import remind_and_close

Kairos = Any  # the conftest's fixture types (test modules cannot import the conftest)
CliPlatform = Any


async def test_an_operator_rejects_an_adhesion_request(
    kairos: Kairos, cli_platform: CliPlatform
) -> None:
    platform = cli_platform.platform
    requested = await platform.identity_http.post("/v1/organisations", json=adhesion_request(8201))
    organisation_id = requested.json()["organisation_id"]
    with_token = {"KAIROS_OPERATOR_TOKEN": platform.operator_token}
    rejected = await kairos(
        "organisation", "reject", organisation_id, "--reason", "NDA inconnu",
        cli_platform.urls[0], env=with_token,
    )  # fmt: skip
    assert rejected.exit_code == 0, rejected.output
    assert f"organisation {organisation_id}: rejected" in rejected.stdout
    seen = await platform.identity_http.get(
        f"/v1/organisations/{organisation_id}", headers=bearer(platform.operator_token)
    )
    assert seen.json()["status"] == "rejected"
    again = await platform.identity_http.post("/v1/organisations", json=adhesion_request(8201))
    assert again.status_code == 201, again.text  # the SIRET applies again


async def test_an_operator_flags_an_account_compromised(
    kairos: Kairos, cli_platform: CliPlatform
) -> None:
    platform = cli_platform.platform
    organisation = await platform.organisation(8202)
    with_token = {"KAIROS_OPERATOR_TOKEN": platform.operator_token}
    flagged = await kairos(
        "account", "compromised", organisation.rgc_account_id, "--reason", "hameçonnage",
        cli_platform.urls[0], env=with_token,
    )  # fmt: skip
    assert flagged.exit_code == 0, flagged.output
    assert "1 session(s) ended" in flagged.stdout
    login = await platform.identity_http.post(
        "/v1/sessions", json={"login_id": organisation.rgc_login_id, "password": PASSWORD}
    )
    assert login.json()["password_change_required"] is True
    not_an_id = await kairos("account", "compromised", "42", "--reason", "xyz")
    assert not_an_id.exit_code == 2


async def test_an_operator_lists_the_review_flags_and_answers_them_with_a_demand(
    kairos: Kairos, cli_platform: CliPlatform
) -> None:
    platform = cli_platform.platform
    organisation = await platform.organisation(8203)
    flagged, _ = await platform.active_holder(organisation, "flagged.8203@of.example")
    opened = await platform.http.post(
        f"/v1/organisations/{organisation.id}/reviews", headers=bearer(platform.operator_token)
    )
    assert opened.status_code == 201, opened.text
    platform.clock.set(datetime.fromisoformat(opened.json()["deadline"]) + timedelta(minutes=1))
    assert (await remind_and_close(platform.context))["closed"] == 1
    operator = await platform.relogin(platform.operator_token)
    with_token = {"KAIROS_OPERATOR_TOKEN": operator}

    listed = await kairos("habilitations", "flags", *cli_platform.urls, env=with_token)
    assert listed.exit_code == 0, listed.output
    [line] = [line for line in listed.stdout.splitlines() if flagged in line]
    flag_id = line.split()[0]
    assert "open" in line
    demanded = await kairos(
        "habilitations", "demand", organisation.id, "--flag", flag_id,
        "--reason", "revue annuelle sans réponse", *cli_platform.urls, env=with_token,
    )  # fmt: skip
    assert demanded.exit_code == 0, demanded.output
    assert "1 habilitation(s) to end" in demanded.stdout
    after = await kairos(
        "habilitations", "flags", "--organisation", organisation.id, "--status", "all", "--json",
        *cli_platform.urls, env=with_token,
    )  # fmt: skip
    assert after.exit_code == 0, after.output
    assert '"status": "demanded"' in after.stdout
