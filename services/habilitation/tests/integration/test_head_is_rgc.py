"""K1 and K10 through Kafka: the adhesion may say the head is also the RGC — one person, one
account holding both roles. That account manages habilitations (the RGC's right) and designates
the RGC (the head's), no second account is opened for the head, and once relieved as RGC the
person keeps the head's account and, with it, the RGC's rights while the post is vacant."""

from __future__ import annotations

import uuid
from typing import Any

from kairos_devstack.platform import bearer
from kairos_devstack.testing import valid_siret

Platform = Any  # the conftest's dataclass (test modules cannot import the conftest)
HEAD = {"first_name": "Inès", "last_name": "Roux", "function": "Directrice",
        "email": "ines.roux.711@of.example"}  # fmt: skip


def adhesion(**more: Any) -> dict[str, Any]:
    return {
        "siret": valid_siret(711), "nda": "84690000069", "legal_name": "Organisme 711",
        "address": {"street": "1 place Bellecour", "postal_code": "69002", "city": "Lyon"},
        "head": HEAD, "terms": {"version": "2017-09-15", "accepted_on": "2026-03-01"}, **more,
    }  # fmt: skip


async def test_a_head_who_is_also_the_rgc_holds_both_roles_in_one_account(
    platform: Platform,
) -> None:
    requested = await platform.identity_http.post(
        "/v1/organisations", json=adhesion(head_is_rgc=True)
    )
    assert requested.status_code == 201, requested.text
    organisation_id = requested.json()["organisation_id"]
    validated = await platform.identity_http.post(
        f"/v1/organisations/{organisation_id}/validation", headers=bearer(platform.operator_token)
    )
    assert validated.status_code == 201, validated.text
    credentials = validated.json()
    account_id = credentials["account_id"]
    token = await platform.activate(credentials["login_id"], credentials["provisional_password"])
    accounts = await platform.identity.state.identity.pool.fetch(
        "SELECT role, email FROM account WHERE organisation_id = $1", uuid.UUID(organisation_id)
    )
    assert [(a["role"], a["email"]) for a in accounts] == [("rgc", HEAD["email"])]

    async def known() -> dict[str, Any] | None:
        return await platform.post_of(organisation_id)

    post = await platform.eventually(known)
    assert post["rgc_account_id"] == post["head_account_id"] == account_id
    assert post["rgc_rights_held_by"] == account_id

    # The RGC's right: habilitating; but not a second account for the head.
    recorded = await platform.habilitate(organisation_id, token, "fanny.711@of.example")
    assert recorded.status_code == 201, recorded.text
    head_again = await platform.habilitate(organisation_id, token, HEAD["email"], role="head")
    assert head_again.status_code == 409, head_again.text

    # The head's right: designating a successor, relieving oneself as RGC at once.
    designated = await platform.http.put(
        f"/v1/organisations/{organisation_id}/rgc",
        json={"first_name": "Nora", "last_name": "Blanc", "email": "nora.711@of.example",
              "reason": "change_of_function"},
        headers=bearer(token),
    )  # fmt: skip
    assert designated.status_code == 202, designated.text

    async def relieved() -> dict[str, Any] | None:
        role = await platform.identity.state.identity.pool.fetchval(
            "SELECT role FROM account WHERE id = $1", uuid.UUID(account_id)
        )
        return {"role": role} if role == "head" else None

    await platform.eventually(relieved)  # identity: the account remains, as the head's
    post = await platform.post_of(organisation_id)
    assert post["rgc_account_id"] is None
    assert post["rgc_rights_held_by"] == account_id
    head_token = await platform.relogin(token)  # the sessions ended; the new one says "head"
    recorded = await platform.habilitate(organisation_id, head_token, "zoe.711@of.example")
    assert recorded.status_code == 201, recorded.text


async def test_an_adhesion_names_its_rgc_or_says_the_head_is_the_rgc(platform: Platform) -> None:
    rgc = {"first_name": "Paul", "last_name": "Rgc", "email": "paul.712@of.example"}
    for body in (adhesion(), adhesion(rgc=rgc, head_is_rgc=True)):
        refused = await platform.identity_http.post("/v1/organisations", json=body)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["rgc"]
