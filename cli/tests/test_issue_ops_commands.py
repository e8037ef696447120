"""``kairos organisation reject`` (K1), ``kairos account compromised`` (K7) and ``kairos
habilitations flags`` (K14) against the real apps (in-process, see the conftest)."""

from __future__ import annotations

from typing import Any

from kairos_devstack.platform import PASSWORD, bearer
from kairos_devstack.testing import valid_siret

Kairos = Any  # the conftest's fixture types (test modules cannot import the conftest)
CliPlatform = Any


def _adhesion(seed: int) -> dict[str, Any]:
    return {
        "siret": valid_siret(seed), "nda": "84690000069", "legal_name": f"Organisme {seed}",
        "address": {"street": "1 place Bellecour", "postal_code": "69002", "city": "Lyon"},
        "head": {"first_name": "Inès", "last_name": "Roux", "function": "Directrice",
                 "email": f"ines.roux.{seed}@of.example"},
        "rgc": {"first_name": "Paul", "last_name": f"Rgc{seed}", "email": f"rgc.{seed}@of.example"},
        "terms": {"version": "2017-09-15", "accepted_on": "2026-03-01"},
    }  # fmt: skip


async def test_an_operator_rejects_an_adhesion_request(
    kairos: Kairos, cli_platform: CliPlatform
) -> None:
    platform = cli_platform.platform
    requested = await platform.identity_http.post("/v1/organisations", json=_adhesion(8201))
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
    again = await platform.identity_http.post("/v1/organisations", json=_adhesion(8201))
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
