"""K10 through Kafka: no organisation is locked out for good. A successor RGC is designated on
the same terms as the first (CGU §4.1): the organisation names the person — its head, logged in,
or without a head account a request tied to the SIRET and checked against the adhesion's head —
an operator validates it, and that operator retrieves the provisional credentials once to hand
them over; 21 days to log in. With neither an RGC nor a head account, the same path opens the
head's account."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from kairos_devstack.platform import bearer
from kairos_devstack.testing import valid_siret
from kairos_habilitation.service_layer.demands import settle_demands
from kairos_identity.service_layer.deadlines import apply_deadlines
from kairos_schemas import habilitation as events

Platform = Any  # the conftest's dataclass (test modules cannot import the conftest)
DAY_21 = timedelta(days=22)  # past the end of the 21st day in the OF's zone (K6)
NEW_RGC = {"first_name": "Nora", "last_name": "Blanc", "email": "nora.blanc@of.example"}


def head_of(seed: int) -> dict[str, str]:
    """The head as the platform's adhesion declared it."""
    return {"first_name": "Inès", "last_name": "Roux", "email": f"ines.roux.{seed}@of.example"}


async def lapsed_before_any_head_account(platform: Platform, seed: int) -> Any:
    """An organisation whose first RGC let day 21 pass before opening the head's account:
    nobody holds the RGC's rights."""
    organisation = await platform.organisation(seed=seed, activate_rgc=False)
    await platform.advance(DAY_21)
    await apply_deadlines(platform.identity.state.identity)

    async def vacant() -> dict[str, Any] | None:
        post = await platform.post_of(organisation.id)
        return post if post["vacant_since"] is not None else None

    post = await platform.eventually(vacant)
    assert post["rgc_rights_held_by"] is None
    return organisation


async def test_an_of_whose_first_rgc_lapsed_recovers_through_a_request_an_operator_validates(
    platform: Platform,
) -> None:
    organisation = await lapsed_before_any_head_account(platform, seed=611)
    request = {"siret": valid_siret(611), "head": head_of(611), "new_rgc": NEW_RGC}
    wrong_head = {**request, "head": {**head_of(611), "email": "someone@else.example"}}
    refused = await platform.http.post("/v1/rgc-designation-requests", json=wrong_head)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "head"

    not_a_siret = await platform.http.post(
        "/v1/rgc-designation-requests", json={**request, "siret": "1234"}
    )
    assert not_a_siret.status_code == 422, not_a_siret.text
    assert [e["field"] for e in not_a_siret.json()["errors"]] == ["body.siret"]
    siret = valid_siret(611)
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"  # as printed on a Kbis
    requested = await platform.http.post(
        "/v1/rgc-designation-requests", json={**request, "siret": spaced}
    )
    assert requested.status_code == 202, requested.text
    designation = requested.json()
    assert (designation["status"], designation["account_role"]) == ("pending", "rgc")
    assert designation["requested_by"] is None
    [event] = await platform.published(events.RgcDesignationRequested.event_type, organisation.id)
    assert event["rgc_designation_id"] == designation["rgc_designation_id"]
    listed = await platform.http.get(
        "/v1/rgc-designations", params={"organisation_id": organisation.id},
        headers=bearer(platform.operator_token),
    )  # fmt: skip
    assert [d["rgc_designation_id"] for d in listed.json()] == [designation["rgc_designation_id"]]

    credentials = await platform.validate_designation(designation["rgc_designation_id"])
    assert credentials["provisional_password"]
    assert (
        credentials["provisional_until"] > (platform.clock.now() + timedelta(days=20)).isoformat()
    )
    again = await platform.identity_http.get(
        f"/v1/rgc-designations/{designation['rgc_designation_id']}/provisional-credentials",
        headers=bearer(platform.operator_token),
    )
    assert again.status_code == 409  # shown once

    async def in_office() -> dict[str, Any] | None:
        post = await platform.post_of(organisation.id)
        return post if post["rgc_account_id"] == credentials["account_id"] else None

    await platform.eventually(in_office)
    rgc_token = await platform.activate(
        credentials["login_id"], credentials["provisional_password"]
    )
    recorded = await platform.habilitate(
        organisation.id, rgc_token, "head611@of.example", role="head"
    )
    assert recorded.status_code == 201, recorded.text


async def test_with_neither_an_rgc_nor_a_head_account_the_same_path_opens_the_heads_account(
    platform: Platform,
) -> None:
    organisation = await lapsed_before_any_head_account(platform, seed=612)
    requested = await platform.http.post(
        "/v1/rgc-designation-requests", json={"siret": valid_siret(612), "head": head_of(612)}
    )
    assert requested.status_code == 202, requested.text
    assert requested.json()["account_role"] == "head"
    credentials = await platform.validate_designation(requested.json()["rgc_designation_id"])

    async def head_in_charge() -> dict[str, Any] | None:
        post = await platform.post_of(organisation.id)
        return post if post["rgc_rights_held_by"] == credentials["account_id"] else None

    post = await platform.eventually(head_in_charge)
    assert post["rgc_account_id"] is None  # the head holds the rights; the post stays vacant
    head_token = await platform.activate(
        credentials["login_id"], credentials["provisional_password"]
    )
    recorded = await platform.habilitate(organisation.id, head_token, "zoe612@of.example")
    assert recorded.status_code == 201, recorded.text
    designated = await platform.http.put(
        f"/v1/organisations/{organisation.id}/rgc", json=NEW_RGC, headers=bearer(head_token)
    )
    assert designated.status_code == 202, designated.text
    # Now that the head has an account, a request without one is refused: the head logs in.
    again = await platform.http.post(
        "/v1/rgc-designation-requests",
        json={"siret": valid_siret(612), "head": head_of(612), "new_rgc": NEW_RGC},
    )
    assert again.status_code == 409, again.text


async def test_a_designation_waits_for_the_operator_who_may_reject_it(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=613)
    _, head_token = await platform.active_holder(organisation, "head613@of.example", role="head")
    # While an RGC is in office, nobody may ask without an account.
    anonymous = await platform.http.post(
        "/v1/rgc-designation-requests",
        json={"siret": valid_siret(613), "head": head_of(613), "new_rgc": NEW_RGC},
    )
    assert anonymous.status_code == 409, anonymous.text
    designated = await platform.http.put(
        f"/v1/organisations/{organisation.id}/rgc",
        json={**NEW_RGC, "reason": "change_of_function"}, headers=bearer(head_token),
    )  # fmt: skip
    assert designated.status_code == 202, designated.text
    designation_id = designated.json()["rgc_designation_id"]
    url = f"/v1/rgc-designations/{designation_id}"
    by_head = await platform.http.post(f"{url}/validation", headers=bearer(head_token))
    assert by_head.status_code == 403
    rejected = await platform.http.post(
        f"{url}/rejection", json={"reason": "personne inconnue de l'organisme"},
        headers=bearer(platform.operator_token),
    )  # fmt: skip
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    late = await platform.http.post(f"{url}/validation", headers=bearer(platform.operator_token))
    assert late.status_code == 409
    [event] = await platform.published(events.RgcDesignationRejected.event_type, organisation.id)
    assert event["reason"] == "personne inconnue de l'organisme"
    assert await platform.published(events.RgcDesignated.event_type, organisation.id) == []
    # The former RGC was relieved at once; the head holds the rights meanwhile.
    post = await platform.post_of(organisation.id)
    assert post["rgc_account_id"] is None
    assert post["rgc_rights_held_by"] == post["head_account_id"]


async def test_a_head_account_that_lapsed_does_not_lock_the_of_out(platform: Platform) -> None:
    """The head's account exists but lapsed (never used within 7 days), then the RGC is revoked:
    the head cannot log in, so the request without an account is open to the OF."""
    organisation = await platform.organisation(seed=614)
    recorded = await platform.habilitate(
        organisation.id, organisation.rgc_token, head_of(614)["email"], role="head"
    )
    assert recorded.status_code == 201, recorded.text

    async def head_account() -> str | None:
        post = await platform.post_of(organisation.id)
        return post["head_account_id"] if post else None

    head_account_id = await platform.eventually(head_account)
    handed_over = await platform.identity_http.get(
        f"/v1/accounts/{head_account_id}/provisional-credentials",
        headers=bearer(organisation.rgc_token),
    )  # the head's 7 days run from here (K6)
    assert handed_over.status_code == 200, handed_over.text
    await platform.advance(timedelta(days=8))  # the head never logs in
    await apply_deadlines(platform.identity.state.identity)

    async def head_lapsed() -> bool | None:
        account = await platform.context.pool.fetchval(
            "SELECT status FROM account WHERE id = $1", uuid.UUID(head_account_id)
        )
        return True if account == "lapsed" else None

    await platform.eventually(head_lapsed)
    issued = await platform.http.post(
        f"/v1/organisations/{organisation.id}/demands",
        json={"kind": "revoke_rgc", "reason": "RGC injoignable",
              "deadline": (platform.clock.now() + timedelta(minutes=5)).isoformat()},
        headers=bearer(platform.operator_token),
    )  # fmt: skip
    assert issued.status_code == 201, issued.text
    platform.clock.advance(timedelta(minutes=6))
    await settle_demands(platform.context)
    post = await platform.post_of(organisation.id)
    assert (post["rgc_account_id"], post["rgc_rights_held_by"]) == (None, head_account_id)

    requested = await platform.http.post(
        "/v1/rgc-designation-requests",
        json={"siret": valid_siret(614), "head": head_of(614), "new_rgc": NEW_RGC},
    )
    assert requested.status_code == 202, requested.text
    credentials = await platform.validate_designation(requested.json()["rgc_designation_id"])

    async def in_office() -> dict[str, Any] | None:
        post = await platform.post_of(organisation.id)
        return post if post["rgc_account_id"] == credentials["account_id"] else None

    await platform.eventually(in_office)
