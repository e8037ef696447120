"""K10 and K14 on the identity side, driven by the habilitation service's Kafka events: a vacated
RGC post disables the former RGC's account at once; an operator validates a new RGC's
designation, which opens an RGC account (21 days, K6) whose credentials that operator alone
retrieves, once, to hand them over (CGU §4.1: as for the first RGC); a suspended habilitation
refuses its holder a session until the RGC confirms it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kairos_identity.adapters.organisations import Contact
from kairos_identity.service_layer.deadlines import apply_deadlines
from kairos_identity.service_layer.operators import create_operator
from kairos_schemas import habilitation as habilitation_events
from kairos_schemas import identity as events

from .helpers import (
    HEAD_PASSWORD,
    RGC_PASSWORD,
    USER_PASSWORD,
    account_where,
    bearer,
    habilitated,
    organisation_with_rgc,
    outbox_bytes,
    outbox_events,
    processed,
    publish,
)

IdentityApi = Any  # the conftest's dataclass (test modules cannot import the conftest)
NEW_RGC_PASSWORD = "La nouvelle responsable des comptes"


async def _status(api: IdentityApi, account_id: str) -> str:
    status: str = await api.context.pool.fetchval(
        "SELECT status FROM account WHERE id = $1", uuid.UUID(account_id)
    )
    return status


async def _ended_sessions(api: IdentityApi, account_id: str) -> list[str]:
    return [
        event.reason
        for event in await outbox_events(api)
        if isinstance(event, events.SessionEnded) and event.account_id == account_id
    ]


def _vacancy(
    rgc: dict[str, Any], head_account_id: str | None, reason: habilitation_events.VacancyReason
) -> habilitation_events.RgcPostVacated:
    return habilitation_events.RgcPostVacated(
        organisation_id=rgc["organisation_id"], reason=reason,
        former_rgc_account_id=rgc["account_id"], head_account_id=head_account_id,
        vacated_at="2026-03-02T09:30:00Z", vacated_by=head_account_id,
    )  # fmt: skip


async def test_a_vacated_post_disables_the_former_rgc_at_once(
    identity_api: IdentityApi, operator_token: str, kafka_bootstrap_servers: str
) -> None:
    kafka = kafka_bootstrap_servers
    rgc = await organisation_with_rgc(identity_api, operator_token, seed=201)
    head = await habilitated(identity_api, kafka, rgc, "Roux", role="head", password=HEAD_PASSWORD)
    vacancy = _vacancy(rgc, head["account_id"], "departure")
    await processed(identity_api, await publish(kafka, vacancy, times=2))

    assert await _status(identity_api, rgc["account_id"]) == "disabled"
    url = f"/v1/organisations/{rgc['organisation_id']}"
    assert (await identity_api.http.get(url, headers=bearer(rgc["token"]))).status_code == 401
    assert (await identity_api.login(rgc["login_id"], RGC_PASSWORD)).status_code == 401
    assert await _ended_sessions(identity_api, rgc["account_id"]) == [
        "password_changed",  # the RGC's first session, when the provisional password went
        "rgc_post_vacated",
    ]
    # The head keeps their session: the head now holds the RGC's rights (K10).
    assert (await identity_api.http.get(url, headers=bearer(head["token"]))).status_code == 200


async def test_a_vacated_post_leaves_a_lapsed_rgc_account_and_ignores_an_unknown_one(
    identity_api: IdentityApi, operator_token: str, kafka_bootstrap_servers: str
) -> None:
    rgc = await organisation_with_rgc(identity_api, operator_token, seed=202)
    await identity_api.context.pool.execute(
        "UPDATE account SET status = 'lapsed' WHERE id = $1", uuid.UUID(rgc["account_id"])
    )  # as the deadline pass does to an RGC who never replaced the provisional password (K6)
    lapsed = _vacancy(rgc, None, "provisional_account_lapsed")
    unknown = _vacancy({**rgc, "account_id": str(uuid.uuid4())}, None, "departure")
    # Both are applied as no-ops (recorded in the inbox), neither is dead-lettered.
    await processed(identity_api, await publish(kafka_bootstrap_servers, lapsed))
    await processed(identity_api, await publish(kafka_bootstrap_servers, unknown))

    assert await _status(identity_api, rgc["account_id"]) == "lapsed"
    assert "rgc_post_vacated" not in await _ended_sessions(identity_api, rgc["account_id"])


async def test_a_validated_designation_opens_an_rgc_account_the_operator_hands_over_once(
    identity_api: IdentityApi, operator_token: str, kafka_bootstrap_servers: str
) -> None:
    kafka = kafka_bootstrap_servers
    former = await organisation_with_rgc(identity_api, operator_token, seed=203)
    head = await habilitated(
        identity_api, kafka, former, "Roux", role="head", password=HEAD_PASSWORD
    )
    other = await organisation_with_rgc(identity_api, operator_token, seed=204)
    other_head = await habilitated(
        identity_api, kafka, other, "Martin", role="head", password=HEAD_PASSWORD
    )
    vacancy = _vacancy(former, head["account_id"], "change_of_function")
    await processed(identity_api, await publish(kafka, vacancy))

    designation_id = str(uuid.uuid4())
    operator_id = str(await identity_api.context.pool.fetchval(
        "SELECT id FROM account WHERE role = 'operator' AND email = $1",
        "odile.perrin@francetravail.example",
    ))  # fmt: skip
    designated = habilitation_events.RgcDesignated(
        organisation_id=former["organisation_id"], rgc_designation_id=designation_id,
        person=events.Person(first_name="Nadia", last_name="Benali",
                             email="nadia.benali@of.example"),
        designated_by=head["account_id"], designated_at=identity_api.clock.now(),
        validated_by=operator_id, validated_at=identity_api.clock.now(),
    )  # fmt: skip
    await publish(kafka, designated, times=2)  # one record delivered twice
    await processed(identity_api, await publish(kafka, designated))  # the same designation again
    account = await account_where(identity_api, "rgc_designation_id", designation_id)
    count = await identity_api.context.pool.fetchval(
        "SELECT count(*) FROM account WHERE rgc_designation_id = $1", uuid.UUID(designation_id)
    )
    assert count == 1
    assert (account["role"], account["status"]) == ("rgc", "provisional")
    assert str(account["organisation_id"]) == former["organisation_id"]
    assert account["provisional_until"] == datetime(2026, 3, 23, 23, 0, tzinfo=UTC)  # K6
    assert account["password_hash"] is None, "no credentials before the operator retrieves them"
    created = [
        event for event in await outbox_events(identity_api)
        if isinstance(event, events.AccountCreated) and event.rgc_designation_id == designation_id
    ]  # fmt: skip
    assert len(created) == 1
    assert created[0].account_id == str(account["id"])
    assert (created[0].role, created[0].provisional_until) == ("rgc", account["provisional_until"])

    by_account = f"/v1/accounts/{account['id']}/provisional-credentials"
    for outsider in (head, other_head, other):  # the head, another organisation's, another RGC
        refused = await identity_api.http.get(by_account, headers=bearer(outsider["token"]))
        assert refused.status_code == 403, refused.text
    url = f"/v1/rgc-designations/{designation_id}/provisional-credentials"
    second = await create_operator(
        identity_api.context, Contact("Marc", "Lenoir", "marc.lenoir@francetravail.example")
    )
    second_token = await identity_api.activate(
        second.login_id, second.provisional_password, "Un autre agent de France Travail"
    )
    refused = await identity_api.http.get(url, headers=bearer(second_token))
    assert refused.status_code == 403, "only the validating operator hands them over"
    assert (await identity_api.http.get(url, headers=bearer(head["token"]))).status_code == 403
    retrieved = await identity_api.http.get(url, headers=bearer(operator_token))
    assert retrieved.status_code == 200, retrieved.text
    credentials = retrieved.json()
    assert credentials["account_id"] == str(account["id"])
    assert (await identity_api.http.get(url, headers=bearer(operator_token))).status_code == 409

    token = await identity_api.activate(
        credentials["login_id"], credentials["provisional_password"], NEW_RGC_PASSWORD
    )
    own = await identity_api.http.get(by_account, headers=bearer(token))
    assert own.status_code == 403, "nobody retrieves their own credentials"
    assert credentials["provisional_password"].encode() not in await outbox_bytes(identity_api)


async def test_a_suspended_habilitation_refuses_its_holder_until_reinstated(
    identity_api: IdentityApi, operator_token: str, kafka_bootstrap_servers: str
) -> None:
    kafka = kafka_bootstrap_servers
    rgc = await organisation_with_rgc(identity_api, operator_token, seed=205)
    user = await habilitated(identity_api, kafka, rgc, "Lucas", role="user", password=USER_PASSWORD)
    refresh_token = (await identity_api.login(user["login_id"], USER_PASSWORD)).json()[
        "refresh_token"
    ]
    suspended = habilitation_events.HabilitationSuspended(
        habilitation_id=user["habilitation_id"], organisation_id=rgc["organisation_id"],
        account_id=user["account_id"], reason="annual_review_overdue",
        suspended_at=identity_api.clock.now(),
    )  # fmt: skip
    await processed(identity_api, await publish(kafka, suspended, times=2))

    url = f"/v1/organisations/{rgc['organisation_id']}"
    assert (await identity_api.http.get(url, headers=bearer(user["token"]))).status_code == 401
    refreshed = await identity_api.http.post(
        "/v1/sessions/refresh", json={"refresh_token": refresh_token}
    )
    assert refreshed.status_code == 401
    refused = await identity_api.login(user["login_id"], USER_PASSWORD)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/habilitation-suspended")
    assert "RGC must confirm" in refused.json()["detail"]
    assert await _status(identity_api, user["account_id"]) == "active", "the status stays"
    reasons = await _ended_sessions(identity_api, user["account_id"])
    assert reasons[-2:] == ["habilitation_suspended", "habilitation_suspended"], "both sessions"
    wrong = await identity_api.login(user["login_id"], "not the password at all")
    assert wrong.status_code == 401, "a suspension is told only to who knows the password"

    reinstated = habilitation_events.HabilitationReinstated(
        habilitation_id=user["habilitation_id"], organisation_id=rgc["organisation_id"],
        account_id=user["account_id"], reinstated_at=identity_api.clock.now(),
        reinstated_by=rgc["account_id"],
    )  # fmt: skip
    await processed(identity_api, await publish(kafka, reinstated))
    assert (await identity_api.login(user["login_id"], USER_PASSWORD)).status_code == 201


async def test_a_designated_rgc_who_never_logs_in_lapses_after_21_days_like_the_first(
    identity_api: IdentityApi, operator_token: str, kafka_bootstrap_servers: str
) -> None:
    rgc = await organisation_with_rgc(identity_api, operator_token, seed=206)
    designated = habilitation_events.RgcDesignated(
        organisation_id=rgc["organisation_id"], rgc_designation_id=str(uuid.uuid4()),
        person=events.Person(first_name="Yann", last_name="Morel", email="yann.morel@of.example"),
        designated_by=str(uuid.uuid4()), designated_at=identity_api.clock.now(),
    )  # fmt: skip
    await publish(kafka_bootstrap_servers, designated)
    account = await account_where(identity_api, "rgc_designation_id", designated.rgc_designation_id)
    identity_api.clock.set(account["provisional_until"] - timedelta(seconds=1))
    assert (await apply_deadlines(identity_api.context)).lapsed == 0
    identity_api.clock.advance(timedelta(seconds=1))
    assert (await apply_deadlines(identity_api.context)).events == [
        events.RgcAccountLapsed.event_type  # the RGC post is vacant again (K10)
    ]
    assert await _status(identity_api, str(account["id"])) == "lapsed"
