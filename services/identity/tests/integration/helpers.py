"""What the identity integration tests share (imported relatively: the tests run in pytest's
importlib mode, which makes this folder a package): an organisation with an activated RGC and
head through the HTTP API, habilitation events published to Kafka as the habilitation service
would, and the identity events read back from the outbox."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.structs import RecordMetadata

from kairos_devstack.testing import adhesion_request
from kairos_schemas import CloudEvent, Event, parse_event, to_cloudevent
from kairos_schemas import habilitation as habilitation_events
from kairos_schemas import identity as events

IdentityApi = Any  # the conftest's dataclass (test modules cannot import the conftest)
RGC_PASSWORD = "Le responsable des comptes, 2026 !"
HEAD_PASSWORD = "La directrice signe les habilitations"
USER_PASSWORD = "Une formatrice qui déclare les entrées"

T = TypeVar("T")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout: float = 30) -> T:
    """The first result of `probe` that is not None (it is asked every 0.1 s)."""
    async with asyncio.timeout(timeout):
        while (result := await probe()) is None:  # noqa: ASYNC110 - polls the database
            await asyncio.sleep(0.1)
    return result


async def organisation_with_rgc(
    api: IdentityApi, operator_token: str, seed: int, *, postal_code: str = "69002"
) -> dict[str, Any]:
    """A validated organisation whose RGC has activated the account: its id, the RGC's
    ``account_id``, ``login_id`` and ``token``; `postal_code` places it in its zone."""
    body = adhesion_request(seed, postal_code)
    organisation_id = (await api.http.post("/v1/organisations", json=body)).json()[
        "organisation_id"
    ]
    rgc = (await api.http.post(
        f"/v1/organisations/{organisation_id}/validation", headers=bearer(operator_token)
    )).json()  # fmt: skip
    token = await api.activate(rgc["login_id"], rgc["provisional_password"], RGC_PASSWORD)
    return {"organisation_id": organisation_id, "token": token, **rgc}


def habilitation_recorded(
    organisation_id: str, last_name: str, role: str = "user"
) -> habilitation_events.HabilitationRecorded:
    return habilitation_events.HabilitationRecorded(
        habilitation_id=str(uuid.uuid4()), organisation_id=organisation_id, role=role,
        person=events.Person(first_name="Fanny", last_name=last_name,
                             email=f"fanny.{last_name.lower()}@of.example"),
        function="formatrice" if role == "user" else "directrice",
        authorisation=habilitation_events.SignedAuthorisation(
            signed_by="Inès Roux", signed_on="2026-03-01",
            document_sha256=hashlib.sha256(b"autorisation signee").hexdigest(),
        ),
        employee_attested=True, recorded_by=str(uuid.uuid4()), recorded_at="2026-03-02T09:00:00Z",
    )  # fmt: skip


async def publish(kafka: str, event: Event, *, times: int = 1) -> str:
    """Publish `event` on the habilitation topic (`times` deliveries of one record, as a
    producer's retry would); its CloudEvent id."""
    event_id, _ = await publish_located(kafka, event, times=times)
    return event_id


async def publish_located(
    kafka: str, event: Event, *, times: int = 1
) -> tuple[str, RecordMetadata]:
    """As :func:`publish`; also where its last delivery landed (partition and offset)."""
    cloudevent = to_cloudevent(event, source="/kairos/habilitation")
    record = cloudevent.to_kafka()
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    try:
        for _ in range(times):
            last = await producer.send_and_wait(
                habilitation_events.TOPIC,
                record.value,
                key=record.key,
                headers=list(record.headers),
            )
    finally:
        await producer.stop()
    return cloudevent.id, last


async def consumed_past(api: IdentityApi, record: RecordMetadata) -> None:
    """Wait until the identity service's consumer of the record's topic has committed an offset
    past it: it has handled that record, and every one before it on its partition (the
    subscriber commits each record's offset once its effect is committed or skipped)."""
    partition = TopicPartition(record.topic, record.partition)

    async def committed() -> bool | None:
        for _, consumer in api.app.state.resources.messaging.kafka_consumers():
            if partition in consumer.assignment():
                offset = await consumer.committed(partition)
                if offset is not None and offset > record.offset:
                    return True
        return None

    await eventually(committed)


async def processed(api: IdentityApi, event_id: str) -> None:
    """Wait until the identity service's consumer has applied (or skipped) the event."""

    async def recorded() -> bool | None:
        found = await api.context.pool.fetchval("SELECT 1 FROM inbox WHERE event_id = $1", event_id)
        return True if found else None

    await eventually(recorded)


async def account_where(api: IdentityApi, column: str, value: uuid.UUID | str) -> dict[str, Any]:
    """The account whose `column` (a fixed column name) equals `value`, once it exists."""

    async def row() -> dict[str, Any] | None:
        found = await api.context.pool.fetchrow(
            f"SELECT * FROM account WHERE {column} = $1", uuid.UUID(str(value))
        )
        return None if found is None else dict(found)

    return await eventually(row)


async def habilitated(
    api: IdentityApi, kafka: str, rgc: dict[str, Any], last_name: str, *, role: str, password: str
) -> dict[str, Any]:
    """A person habilitated by `rgc`, who retrieves and hands over the credentials; the person
    activated the account: its ``account_id``, ``habilitation_id``, ``login_id``, ``token``."""
    recorded = habilitation_recorded(rgc["organisation_id"], last_name, role)
    await publish(kafka, recorded)
    account = await account_where(api, "habilitation_id", recorded.habilitation_id)
    retrieved = await api.http.get(
        f"/v1/accounts/{account['id']}/provisional-credentials", headers=bearer(rgc["token"])
    )
    assert retrieved.status_code == 200, retrieved.text
    credentials = retrieved.json()
    token = await api.activate(
        credentials["login_id"], credentials["provisional_password"], password
    )
    return {"account_id": str(account["id"]), "habilitation_id": recorded.habilitation_id,
            "login_id": credentials["login_id"], "token": token}  # fmt: skip


async def outbox_events(api: IdentityApi) -> list[Event]:
    """Every identity event written so far, in order."""
    rows = await api.context.pool.fetch(
        "SELECT key, value, header_names, header_values FROM outbox ORDER BY id"
    )
    return [
        parse_event(CloudEvent.from_kafka(
            row["key"], row["value"], list(zip(row["header_names"], row["header_values"],
                                               strict=True)),
        ))
        for row in rows
    ]  # fmt: skip


async def outbox_bytes(api: IdentityApi) -> bytes:
    """Every outbox record's value, concatenated: to look for what must never be there."""
    rows = await api.context.pool.fetch("SELECT value FROM outbox")
    return b"".join(bytes(row["value"]) for row in rows)
