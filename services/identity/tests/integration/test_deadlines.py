"""Deadlines driven by the clock (K2, K6): provisional credentials remind, then lapse (an RGC's
lapse has its own event, published to Kafka); access periods give notice, then end; two
replicas running the same pass act on each deadline once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kairos_devstack.testing import read_records, valid_siret
from kairos_identity.adapters.organisations import Contact
from kairos_identity.domain.accounts import Role
from kairos_identity.service_layer.account_opening import create_account
from kairos_identity.service_layer.deadlines import apply_deadlines
from kairos_schemas import CloudEvent, parse_event
from kairos_schemas import identity as events

from .helpers import (
    RGC_PASSWORD,
    account_where,
    bearer,
    habilitation_recorded,
    organisation_with_rgc,
    outbox_events,
    publish,
)

IdentityApi = Any  # the conftest's dataclass (test modules cannot import the conftest)
PARIS = ZoneInfo("Europe/Paris")


async def _validated_organisation(
    api: IdentityApi, operator_token: str, seed: int
) -> dict[str, Any]:
    body = {
        "siret": valid_siret(seed), "nda": "11755555575", "legal_name": "Atelier Formation",
        "address": {"street": "3 quai des Chartrons", "postal_code": "33000", "city": "Bordeaux"},
        "head": {"first_name": "Hugo", "last_name": "Lemaire", "function": "Gérant",
                 "email": "hugo.lemaire@atelier.example"},
        "rgc": {"first_name": "Rose", "last_name": "Gauthier",
                "email": "rose.gauthier@atelier.example"},
        "terms": {"version": "2017-09-15", "accepted_on": "2026-03-01"},
    }  # fmt: skip
    organisation_id = (await api.http.post("/v1/organisations", json=body)).json()[
        "organisation_id"
    ]
    rgc = (await api.http.post(
        f"/v1/organisations/{organisation_id}/validation",
        headers={"Authorization": f"Bearer {operator_token}"},
    )).json()  # fmt: skip
    return {"organisation_id": organisation_id, **rgc}


async def test_an_rgc_who_never_logs_in_is_reminded_then_lapses_at_the_end_of_day_21(
    identity_api: IdentityApi, operator_token: str, kafka_bootstrap_servers: str
) -> None:
    rgc = await _validated_organisation(identity_api, operator_token, seed=21)
    context = identity_api.context
    seen = []
    validated = identity_api.clock.now()  # Monday 2 March, 10:00 in Paris
    for day in (14, 15, 19, 20, 20, 21):
        identity_api.clock.set(validated + timedelta(days=day))
        seen.append((day, (await apply_deadlines(context)).events))
    assert seen == [
        (14, []),
        (15, ["fr.kairos.identity.provisional-access-reminder.v1"]),  # 7 days before the end
        (19, []),
        (20, ["fr.kairos.identity.provisional-access-reminder.v1"]),  # 2 days before
        (20, []),  # not twice
        (21, []),  # day 21, 10:00 in Paris: the whole day is the RGC's
    ]
    identity_api.clock.set(datetime(2026, 3, 23, 23, 59, tzinfo=PARIS))
    assert (await apply_deadlines(context)).events == []
    identity_api.clock.set(datetime(2026, 3, 24, 0, 0, tzinfo=PARIS))  # the end of day 21
    assert (await apply_deadlines(context)).events == ["fr.kairos.identity.rgc-account-lapsed.v1"]
    assert (await apply_deadlines(context)).events == []
    refused = await identity_api.login(rgc["login_id"], rgc["provisional_password"])
    assert refused.status_code == 401

    async with asyncio.timeout(30):
        while True:  # the relay publishes it to the identity topic
            records = await read_records(kafka_bootstrap_servers, events.TOPIC, idle_timeout=0.5)
            lapses = [
                parse_event(CloudEvent.from_kafka(r.key, r.value, r.headers))
                for r in records
                if dict(r.headers)["ce_type"] == events.RgcAccountLapsed.event_type.encode()
            ]
            if any(
                isinstance(e, events.RgcAccountLapsed) and e.account_id == rgc["account_id"]
                for e in lapses
            ):
                break
            await asyncio.sleep(0.2)


async def test_a_user_account_lapses_after_7_days_and_two_replicas_act_once(
    identity_api: IdentityApi, operator_token: str
) -> None:
    rgc = await _validated_organisation(identity_api, operator_token, seed=7)
    context = identity_api.context
    async with context.pool.acquire() as connection, connection.transaction():
        user = await create_account(
            context, connection, Contact("Ulysse", "Martin", "ulysse.martin@atelier.example"),
            Role.USER, organisation_id=rgc["organisation_id"],
        )  # fmt: skip
    start = identity_api.clock.now()  # Monday 2 March: 7 days to the end of Monday 9 March
    identity_api.clock.set(start + timedelta(days=5))
    assert (await apply_deadlines(context)).reminders == 0
    identity_api.clock.set(start + timedelta(days=6))
    reports = await asyncio.gather(apply_deadlines(context), apply_deadlines(context))
    assert sum(report.reminders for report in reports) == 1
    identity_api.clock.set(start + timedelta(days=7))
    assert (await apply_deadlines(context)).lapsed == 0  # day 7, 10:00: still the user's
    identity_api.clock.set(datetime(2026, 3, 10, 0, 0, tzinfo=PARIS))
    reports = await asyncio.gather(apply_deadlines(context), apply_deadlines(context))
    assert sum(report.lapsed for report in reports) == 1
    assert [e for r in reports for e in r.events] == ["fr.kairos.identity.account-lapsed.v1"]
    status = await context.pool.fetchval(
        "SELECT status FROM account WHERE id = $1", user.account_id
    )
    assert status == "lapsed"


async def test_access_gives_notice_then_ends_after_three_years(
    identity_api: IdentityApi, operator_token: str
) -> None:
    rgc = await _validated_organisation(identity_api, operator_token, seed=3)
    context = identity_api.context
    expires = await context.pool.fetchval(
        "SELECT access_expires_at FROM organisation WHERE id = $1", rgc["organisation_id"]
    )
    assert expires == identity_api.clock.now().replace(year=2029)
    notices = []
    for before in (91, 90, 60, 30, 8, 7, 1):
        identity_api.clock.set(expires - timedelta(days=before))
        notices += [(before, e) for e in (await apply_deadlines(context)).events if "adhesion" in e]
    assert notices == [
        (90, "fr.kairos.identity.adhesion-expiring.v1"),
        (30, "fr.kairos.identity.adhesion-expiring.v1"),
        (7, "fr.kairos.identity.adhesion-expiring.v1"),
    ]
    identity_api.clock.set(expires)
    assert "fr.kairos.identity.adhesion-expired.v1" in (await apply_deadlines(context)).events
    status = await context.pool.fetchval(
        "SELECT status FROM organisation WHERE id = $1", rgc["organisation_id"]
    )
    assert status == "expired"


async def test_a_users_7_days_run_from_the_retrieval_to_the_end_of_the_day_in_the_ofs_zone(
    identity_api: IdentityApi, operator_token: str, kafka_bootstrap_servers: str
) -> None:
    rgc = await organisation_with_rgc(identity_api, operator_token, seed=8, postal_code="97400")
    recorded = habilitation_recorded(rgc["organisation_id"], "Payet")
    await publish(kafka_bootstrap_servers, recorded)
    account = await account_where(identity_api, "habilitation_id", recorded.habilitation_id)
    assert account["provisional_until"] is None, "no deadline before the RGC has the credentials"
    created = [
        event for event in await outbox_events(identity_api)
        if isinstance(event, events.AccountCreated) and event.account_id == str(account["id"])
    ]  # fmt: skip
    assert created[0].provisional_until is None

    context = identity_api.context
    identity_api.clock.set(datetime(2026, 3, 12, 9, 0, tzinfo=UTC))  # 10 days on: 13:00 there
    assert (await apply_deadlines(context)).lapsed == 0  # nothing was handed over yet
    login = await identity_api.login(rgc["login_id"], RGC_PASSWORD)
    retrieved = await identity_api.http.get(
        f"/v1/accounts/{account['id']}/provisional-credentials",
        headers=bearer(login.json()["access_token"]),
    )
    assert retrieved.status_code == 200, retrieved.text
    # 7 days from Thursday 12 March, to the end of Thursday 19 March in La Réunion (UTC+4).
    assert retrieved.json()["provisional_until"] == "2026-03-19T20:00:00Z"

    identity_api.clock.set(datetime(2026, 3, 19, 19, 59, tzinfo=UTC))  # 23:59 in La Réunion
    assert (await apply_deadlines(context)).lapsed == 0
    identity_api.clock.set(datetime(2026, 3, 19, 20, 0, tzinfo=UTC))
    assert (await apply_deadlines(context)).events == [events.AccountLapsed.event_type]
