"""``kairos operator``, ``kairos organisation`` and ``kairos habilitations export`` against the
real identity and habilitation apps (in-process, see the conftest)."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from kairos_devstack.platform import PASSWORD, bearer
from kairos_devstack.testing import adhesion_request

Kairos = Any  # the conftest's fixture types (test modules cannot import the conftest)
CliPlatform = Any


def _json_in(stdout: str) -> Any:
    """The JSON document the CLI printed (the in-process apps' logs may interleave: CliRunner
    captures the process's stdout while they run)."""
    start = re.search(r"^[{\[]", stdout, flags=re.MULTILINE)
    assert start is not None, stdout
    return json.JSONDecoder().raw_decode(stdout, start.start())[0]


def _found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match is not None, text
    return match.group(1)


async def _first_login(platform: Any, printed: str) -> Any:
    """The login with the provisional credentials the CLI printed once."""
    login_id = _found(r"login id (\S+)", printed)
    provisional = _found(r"provisional password \(shown once\): (\S+)", printed)
    first = await platform.identity_http.post(
        "/v1/sessions", json={"login_id": login_id, "password": provisional}
    )
    assert first.status_code == 201, first.text
    return first


async def test_an_operator_validates_suspends_and_reinstates_an_organisation(
    kairos: Kairos, cli_platform: CliPlatform
) -> None:
    platform = cli_platform.platform
    requested = await platform.identity_http.post("/v1/organisations", json=adhesion_request(8101))
    assert requested.status_code == 201, requested.text
    organisation_id = requested.json()["organisation_id"]
    with_token = {"KAIROS_OPERATOR_TOKEN": platform.operator_token}

    validated = await kairos(
        "organisation", "validate", organisation_id, cli_platform.urls[0], env=with_token
    )

    assert validated.exit_code == 0, validated.output
    first = await _first_login(platform, validated.stdout)
    assert first.json()["password_change_required"] is True

    # Logged in with a login id and password (no token), as an operator at a terminal would.
    with_login = {
        "KAIROS_OPERATOR_TOKEN": "",
        "KAIROS_OPERATOR_LOGIN_ID": platform.login_ids[platform.operator_token],
        "KAIROS_OPERATOR_PASSWORD": PASSWORD,
    }
    suspended = await kairos(
        "organisation", "suspend", organisation_id, "--reason", "contrôle de l'organisme",
        cli_platform.urls[0], env=with_login,
    )  # fmt: skip
    assert suspended.exit_code == 0, suspended.output
    assert f"organisation {organisation_id}: suspended" in suspended.stdout
    seen = await platform.identity_http.get(
        f"/v1/organisations/{organisation_id}", headers=bearer(platform.operator_token)
    )
    assert seen.json()["status"] == "suspended"

    reinstated = await kairos(
        "organisation", "reinstate", organisation_id, "--json", cli_platform.urls[0],
        env=with_login,
    )  # fmt: skip
    assert reinstated.exit_code == 0, reinstated.output
    assert _json_in(reinstated.stdout)["status"] == "active"

    # Refusals are problem+json, printed with their title, detail and fields; exit non-zero.
    too_short = await kairos(
        "organisation", "withdraw", organisation_id, "--reason", "x", cli_platform.urls[0],
        env=with_token,
    )  # fmt: skip
    assert too_short.exit_code == 1
    assert "HTTP 422 Invalid request" in too_short.stderr
    assert "- body.reason:" in too_short.stderr
    twice = await kairos(
        "organisation", "validate", organisation_id, cli_platform.urls[0], env=with_token
    )
    assert twice.exit_code == 1
    assert re.search(r"HTTP 4\d\d ", twice.stderr), twice.stderr
    assert "provisional password" not in twice.stdout
    wrong = await kairos(
        "organisation", "suspend", organisation_id, "--reason", "contrôle", cli_platform.urls[0],
        env={**with_login, "KAIROS_OPERATOR_PASSWORD": "not the password at all"},
    )  # fmt: skip
    assert wrong.exit_code == 1
    assert "POST /v1/sessions: HTTP 401" in wrong.stderr
    not_an_id = await kairos("organisation", "reinstate", "42", cli_platform.urls[0])
    assert not_an_id.exit_code == 2
    assert "'42' is not an organisation id" in not_an_id.stderr


async def test_the_first_operator_is_bootstrapped_then_replaces_the_password(
    kairos: Kairos, cli_platform: CliPlatform
) -> None:
    platform = cli_platform.platform
    database = {"KAIROS_IDENTITY_DATABASE_URL": cli_platform.identity_database_url}

    created = await kairos(
        "operator", "bootstrap", "--first-name", "Bastien", "--last-name", "Opérateur",
        "--email", "b.operateur@francetravail.example", env=database,
    )  # fmt: skip

    assert created.exit_code == 0, created.output
    login_id = _found(r"login id (\S+)", created.stdout)
    provisional = _found(r"provisional password \(shown once\): (\S+)", created.stdout)
    assert login_id == "boperateur"
    first = await _first_login(platform, created.stdout)
    assert first.json()["password_change_required"] is True

    # The provisional password opens nothing else: the CLI says what to do.
    credentials = {"KAIROS_OPERATOR_LOGIN_ID": login_id, "KAIROS_OPERATOR_PASSWORD": provisional}
    refused = await kairos(
        "organisation", "reinstate", "00000000-0000-0000-0000-000000000000",
        cli_platform.urls[0], env={**credentials, "KAIROS_OPERATOR_TOKEN": ""},
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "kairos operator password" in refused.stderr

    new = "Relève de garde au bureau 7, mardi"
    changed = await kairos(
        "operator", "password", "--login-id", login_id, cli_platform.urls[0],
        input=f"{provisional}\n{new}\n{new}\n",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert new not in changed.output
    assert provisional not in changed.output
    full = await platform.identity_http.post(
        "/v1/sessions", json={"login_id": login_id, "password": new}
    )
    assert full.status_code == 201, full.text
    assert full.json()["password_change_required"] is False


async def test_bootstrap_on_an_unreachable_database_says_so(kairos: Kairos) -> None:
    result = await kairos(
        "operator", "bootstrap", "--first-name", "A", "--last-name", "B", "--email", "a@b.example",
        env={"KAIROS_IDENTITY_DATABASE_URL": "postgresql://postgres:pw-77@127.0.0.1:1/identity"},
    )  # fmt: skip

    assert result.exit_code == 1
    assert "cannot reach the identity database" in result.stderr
    assert "pw-77" not in result.output


async def test_habilitations_are_exported_as_csv_and_json(
    kairos: Kairos, cli_platform: CliPlatform, tmp_path: Any
) -> None:
    platform = cli_platform.platform
    organisation = await platform.organisation(8102)
    recorded = await platform.habilitate(
        organisation.id, organisation.rgc_token, "fanny.martin@of.example"
    )
    assert recorded.status_code == 201, recorded.text
    env = {"KAIROS_OPERATOR_TOKEN": platform.operator_token}
    output = tmp_path / "habilitations.csv"

    exported = await kairos(
        "habilitations", "export", organisation.id, "--output", str(output), *cli_platform.urls,
        env=env,
    )  # fmt: skip

    assert exported.exit_code == 0, exported.output
    assert f"1 habilitation(s) of {organisation.id} written to {output}" in exported.stderr
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))
    assert [row["email"] for row in rows] == ["fanny.martin@of.example"]

    as_json = await kairos(
        "habilitations", "export", organisation.id, "--format", "json", *cli_platform.urls,
        env=env,
    )  # fmt: skip
    assert as_json.exit_code == 0, as_json.output
    listing = _json_in(as_json.stdout)
    assert listing["organisation_id"] == organisation.id
    assert [h["habilitation_id"] for h in listing["habilitations"]] == [
        recorded.json()["habilitation_id"]
    ]

    ended = await kairos(
        "habilitations", "export", organisation.id, "--status", "ended", "--format", "json",
        *cli_platform.urls, env=env,
    )  # fmt: skip
    assert _json_in(ended.stdout)["habilitations"] == []


async def test_an_operator_lists_validates_and_rejects_rgc_designations(
    kairos: Kairos, cli_platform: CliPlatform
) -> None:
    platform = cli_platform.platform
    organisation = await platform.organisation(8103)
    _, head_token = await platform.active_holder(organisation, "head8103@of.example", role="head")
    url = f"/v1/organisations/{organisation.id}/rgc"
    person = {"first_name": "Nora", "last_name": "Blanc", "email": "nora.8103@of.example"}
    designated = await platform.http.put(
        url, json={**person, "reason": "departure"}, headers=bearer(head_token)
    )
    assert designated.status_code == 202, designated.text
    designation_id = designated.json()["rgc_designation_id"]
    env = {"KAIROS_OPERATOR_TOKEN": platform.operator_token}

    listed = await kairos(
        "designations", "list", "--organisation", organisation.id, *cli_platform.urls, env=env
    )
    assert listed.exit_code == 0, listed.output
    assert designation_id in listed.stdout
    assert "Nora Blanc <nora.8103@of.example>" in listed.stdout

    validated = await kairos(
        "designations", "validate", designation_id, *cli_platform.urls, env=env
    )
    assert validated.exit_code == 0, validated.output
    await _first_login(platform, validated.stdout)
    again = await kairos("designations", "validate", designation_id, *cli_platform.urls, env=env)
    assert again.exit_code == 1
    assert "provisional password" not in again.stdout

    other = await platform.http.put(
        url,
        json={**person, "email": "yann.8103@of.example", "reason": "departure"},
        headers=bearer(head_token),
    )
    assert other.status_code == 202, other.text
    rejected = await kairos(
        "designations", "reject", other.json()["rgc_designation_id"], "--reason",
        "personne inconnue", *cli_platform.urls, env=env,
    )  # fmt: skip
    assert rejected.exit_code == 0, rejected.output
    assert "rejected" in rejected.stdout
