"""K23-K24 through the running platform and the SMTP sink: each event that calls for an e-mail
reaches the right people in French, once even when the event comes twice, and no e-mail ever
carries a password."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from kairos_devstack.testing import read_records
from kairos_identity.service_layer.deadlines import apply_deadlines
from kairos_notification.service_layer.delivery import deliver_all_due
from kairos_schemas import identity as identity_events

Platform = Any  # kairos_devstack.platform.Platform (test modules cannot import the conftest)
DAY_21 = timedelta(days=22)  # past the end of the 21st day in the OF's zone (K6)


async def _queued(platform: Platform, organisation_id: str, kind: str) -> list[dict[str, Any]]:
    async with platform.notification.state.resources.require_pool().acquire() as connection:
        rows = await connection.fetch(
            "SELECT * FROM notification WHERE organisation_id = $1 AND kind = $2",
            uuid.UUID(organisation_id), kind,
        )  # fmt: skip
    return [dict(row) for row in rows]


async def _deliver(platform: Platform) -> None:
    context = platform.notification.state.notification
    await deliver_all_due(context.pool, context.mailer, context.clock, context.retry)


def _mails_to(platform: Platform, address: str) -> list[Any]:
    return [mail for mail in platform.mails.all() if address in mail.envelope_to]


async def test_a_validated_adhesion_tells_the_head_and_the_rgc_without_any_password(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=801, activate_rgc=False)

    async def queued() -> list[dict[str, Any]] | None:
        created = await _queued(platform, organisation.id, "rgc_account_created")
        return created or None

    await platform.eventually(queued)
    await platform.eventually(
        lambda: _some(_queued(platform, organisation.id, "adhesion_validated"))
    )
    await _deliver(platform)

    head = _mails_to(platform, "ines.roux.801@of.example")
    rgc = _mails_to(platform, "rgc.801@of.example")
    assert len(head) == 1  # the adhesion is validated
    assert len(rgc) == 2  # that, and the RGC's account with its 21 days to log in
    for mail in head + rgc:
        detail = mail.detail()
        assert "Organisme 801" in detail["Text"]
        assert "Organisme 801" in detail["HTML"]
        assert organisation.rgc_provisional_password not in detail["Text"] + detail["HTML"]
        assert organisation.rgc_login_id not in detail["Text"] + detail["HTML"]  # K5, K6


async def _some(found: Any) -> Any:
    rows = await found
    return rows or None


async def test_an_rgc_who_lets_day_21_pass_leaves_the_head_told_it_holds_the_rights(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=802, activate_rgc=False)
    await platform.advance(DAY_21)
    await apply_deadlines(platform.identity.state.identity)
    await platform.eventually(
        lambda: _some(_queued(platform, organisation.id, "rgc_post_vacant_head_in_charge"))
    )
    await _deliver(platform)
    [row] = await _queued(platform, organisation.id, "rgc_post_vacant_head_in_charge")
    assert row["recipient_email"] == "ines.roux.802@of.example"  # the head is told
    [mail] = [m for m in platform.mails.all() if m.summary()["Subject"] == row["subject"]]
    assert mail.envelope_to == ["ines.roux.802@of.example"]
    assert "Organisme 802" in mail.detail()["Text"]


async def test_an_event_delivered_twice_sends_one_email(platform: Platform) -> None:
    organisation = await platform.organisation(seed=803, activate_rgc=False)
    await platform.eventually(
        lambda: _some(_queued(platform, organisation.id, "adhesion_validated"))
    )
    records = [
        r for r in await read_records(platform.kafka, identity_events.TOPIC, at_least=1)
        if dict(r.headers).get("ce_type") == identity_events.AdhesionValidated.event_type.encode()
        and organisation.id.encode() in r.value
    ]  # fmt: skip
    assert len(records) == 1
    producer = AIOKafkaProducer(bootstrap_servers=platform.kafka, enable_idempotence=True)
    await producer.start()
    try:  # the same record, the same event id, a second time
        await producer.send_and_wait(
            identity_events.TOPIC, records[0].value, key=records[0].key,
            headers=list(records[0].headers),
        )  # fmt: skip
    finally:
        await producer.stop()
    marker = str(uuid.uuid4())
    await platform.identity_http.post(  # an event after it on the same key, to know it was read
        f"/v1/organisations/{organisation.id}/suspension", json={"reason": marker},
        headers={"Authorization": f"Bearer {platform.operator_token}"},
    )  # fmt: skip
    await platform.eventually(
        lambda: _some(_queued(platform, organisation.id, "organisation_suspended"))
    )
    assert len(await _queued(platform, organisation.id, "adhesion_validated")) == 2  # head, RGC
    await _deliver(platform)
    validated = [m for m in _mails_to(platform, "ines.roux.803@of.example")
                 if marker not in m.detail()["Text"]]  # fmt: skip
    assert len(validated) == 1
