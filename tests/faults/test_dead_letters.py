"""Poison and schema-violating records reach every consumer of every topic: each is parked on
``<topic>.dlq`` after bounded retries, the partitions behind them keep flowing, and a dead letter
whose cause was fixed is replayed (``kairos_shared.dead_letters``) and applied once."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections import Counter

import httpx
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord

from kairos_devstack.faults import (
    CONSUMERS,
    BadRecord,
    DeclarationStream,
    FaultRow,
    Person,
    World,
    accounts_opened,
    call,
    consumed_to_the_end,
    entries_applied,
    find_record,
    habilitate,
    habilitation_body,
    new_organisation,
    produce_everywhere,
    settle_burst,
    skip_dead_letters,
    until,
)
from kairos_devstack.story_clients import StoryError, expect, wait_for
from kairos_devstack.testing import valid_siret
from kairos_schemas import declaration, habilitation, identity
from kairos_shared.dead_letters import (
    dead_letter_topic,
    list_dead_letters,
    replay_dead_letters,
)
from kairos_shared.inbox import RetryPolicy

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.infra]

REPLAY_GROUP = "kairos-dlq-replay"
Letter = tuple[str, int, int, str]
"""(original topic, partition, offset, consumer)."""


async def _templates(world: World) -> list[tuple[ConsumerRecord[bytes, bytes], str]]:
    """A real event of each topic, of a type every consumer of the topic handles."""
    tenant, bootstrap = world.tenant, world.platform.kafka.bootstrap_servers
    adhesion = await find_record(
        bootstrap, identity.TOPIC, identity.AdhesionValidated.event_type,
        lambda data: data["organisation_id"] == tenant.organisation_id,
    )  # fmt: skip
    email = f"ended.{uuid.uuid4().hex[:8]}@of.example"
    ended = await habilitate(world, tenant.organisation_id, tenant.rgc, email)
    ending = await call(
        world, "habilitation", "POST", f"/v1/habilitations/{ended}/ending", tenant.rgc,
        json={"reason": "departure"},
    )  # fmt: skip
    expect(ending, 200)
    end = await find_record(
        bootstrap, habilitation.TOPIC, habilitation.HabilitationEnded.event_type,
        lambda data: data["habilitation_id"] == ended,
    )  # fmt: skip
    stream = DeclarationStream(world)
    await stream.declare_one()
    (entry_id,) = stream.accepted
    entry = await find_record(
        bootstrap, declaration.TOPIC, declaration.EntryDeclared.event_type,
        lambda data: data["declaration_id"] == entry_id,
    )  # fmt: skip
    return [(adhesion, "organisation_id"), (end, "habilitation_id"), (entry, "declaration_id")]


async def _dead_letters(world: World) -> Counter[Letter]:
    bootstrap = world.platform.kafka.bootstrap_servers
    found: Counter[Letter] = Counter()
    for topic in CONSUMERS:
        for letter in await list_dead_letters(bootstrap, dead_letter_topic(topic)):
            key = (letter.original_topic, letter.original_partition, letter.original_offset)
            found[(*key, letter.consumer)] += 1
    return found


async def _letters_by_kind(world: World, bad: list[BadRecord]) -> dict[str, set[int]]:
    """The attempts each kind of bad record was given before it was parked."""
    kinds = {(r.topic, r.partition, r.offset): r.kind for r in bad}
    attempts: dict[str, set[int]] = {}
    for topic in CONSUMERS:
        dlq = dead_letter_topic(topic)
        for letter in await list_dead_letters(world.platform.kafka.bootstrap_servers, dlq):
            key = (letter.original_topic, letter.original_partition, letter.original_offset)
            if key in kinds:
                attempts.setdefault(kinds[key], set()).add(letter.attempts)
                if kinds[key] == "poison":
                    by_consumer = f"poison@{letter.consumer}"
                    attempts.setdefault(by_consumer, set()).add(letter.attempts)
    return attempts


async def _habilitated_when_known(
    world: World, organisation_id: str, rgc: Person, email: str
) -> str:
    """Habilitate ``email`` as soon as habilitation learnt the organisation (through Kafka)."""

    async def recorded() -> str | None:
        response = await call(
            world, "habilitation", "POST", f"/v1/organisations/{organisation_id}/habilitations",
            rgc, json=habilitation_body(email),
        )  # fmt: skip
        created = response.status_code == httpx.codes.CREATED
        return str(response.json()["habilitation_id"]) if created else None

    return await wait_for(recorded, "habilitation to know the new organisation")


async def test_poison_and_schema_violating_records_are_dead_lettered(
    world: World, fault_row: FaultRow
) -> None:
    fault_row.fault = "bad records on every topic -> DLQ"
    platform, tenant = world.platform, world.tenant
    bootstrap = platform.kafka.bootstrap_servers
    bad: list[BadRecord] = []
    for template, id_field in await _templates(world):
        bad += await produce_everywhere(bootstrap, template, id_field)
    produced = time.monotonic()

    # Behind them on every partition: a new organisation, a person habilitated in it (identity
    # and habilitation topics, every consumer), entries declared (declaration topic).
    seed = uuid.uuid4().int % 10**6
    organisation_id, rgc = await new_organisation(world.http, tenant.operator, seed)
    email = f"after.poison.{seed}@of.example"
    habilitation_id = await _habilitated_when_known(world, organisation_id, rgc, email)
    stream = DeclarationStream(world)
    await stream.run(3, per_second=2)
    verdict, _ = await settle_burst(world, {habilitation_id: email}, produced)

    async def entries() -> bool:
        return await entries_applied(world, stream.accepted) == len(stream.accepted)

    await until(entries, "the entries declared after the bad records applied")
    flowing = time.monotonic() - produced

    expected = Counter(
        (record.topic, record.partition, record.offset, consumer)
        for record in bad
        for consumer in CONSUMERS[record.topic]
    )

    async def all_parked() -> bool:
        return not expected - await _dead_letters(world)

    with contextlib.suppress(StoryError):  # the counts below say what is missing
        await until(all_parked, "every bad record dead-lettered by every consumer", timeout=120)
    found = await _dead_letters(world)
    letters = await _letters_by_kind(world, bad)
    missing = expected - found
    fault_row.events_in = sum(expected.values()) + 1 + len(stream.accepted)
    fault_row.events_out = sum((expected & found).values()) + verdict.events_out
    fault_row.events_out += await entries_applied(world, stream.accepted)
    fault_row.lost = sum(missing.values()) + verdict.lost
    fault_row.duplicates = sum(n - 1 for key, n in found.items() if key in expected and n > 1)
    fault_row.recovery_s = flowing
    fault_row.notes = (
        f"{len(bad)} bad records x their consumers = {sum(expected.values())} dead letters "
        f"expected; attempts by kind {letters}; recovery = until the events behind them applied"
    )
    assert verdict.lost == 0, verdict.details
    assert verdict.duplicates == 0, verdict.details
    assert not missing, f"not dead-lettered: {sorted(missing)}"
    assert fault_row.duplicates == 0
    # Retried up to the bound, or parked at once by a handler that knows it can never apply
    # (RejectedEventError: an unknown organisation, say): never more than the bound.
    assert RetryPolicy().max_attempts in letters["poison"], letters
    assert letters["poison"] <= {1, RetryPolicy().max_attempts}, letters
    assert letters["schema-violating"] == {1}, letters
    assert letters["not-a-cloudevent"] == {1}, letters
    fault_row.outcome = "ok"


async def test_dead_letter_replayed_after_the_cause_was_fixed(
    world: World, fault_row: FaultRow
) -> None:
    """A habilitation recorded for an organisation identity does not hold active yet is parked
    by identity; once the operator validated the adhesion, the replay opens the account."""
    fault_row.fault = "dead letter replayed after the fix"
    platform, tenant = world.platform, world.tenant
    bootstrap = platform.kafka.bootstrap_servers
    dlq = dead_letter_topic(habilitation.TOPIC)
    await skip_dead_letters(bootstrap, dlq, REPLAY_GROUP)  # earlier letters stay parked
    seed = uuid.uuid4().int % 10**6
    pending = await _adhesion_requested(world, seed)
    recorded = await find_record(
        bootstrap, habilitation.TOPIC, habilitation.HabilitationRecorded.event_type,
        lambda data: data["organisation_id"] == tenant.organisation_id,
    )  # fmt: skip
    habilitation_id, email = str(uuid.uuid4()), f"replayed.{seed}@of.example"
    data = json.loads(recorded.value or b"{}")
    data.update(habilitation_id=habilitation_id, organisation_id=pending)
    data["person"] = {**data["person"], "email": email}
    event_id = str(uuid.uuid4())
    headers = [(k, v) for k, v in recorded.headers or () if k != "ce_id"]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            habilitation.TOPIC, json.dumps(data).encode(), key=habilitation_id.encode(),
            headers=[*headers, ("ce_id", event_id.encode())],
        )  # fmt: skip
    finally:
        await producer.stop()

    async def parked() -> bool:
        letters = await list_dead_letters(bootstrap, dlq)
        return any(x.event_id == event_id and x.consumer == "accounts" for x in letters)

    await until(parked, "identity to park the habilitation of an organisation not validated")
    burst = {habilitation_id: email}
    assert await accounts_opened(world, burst) == 0
    await tenant.operator.post(f"/v1/organisations/{pending}/validation", 201)  # the fix
    fixed = time.monotonic()
    replayed = await replay_dead_letters(bootstrap, dlq, group_id=REPLAY_GROUP)

    async def opened() -> bool:
        return await accounts_opened(world, burst) >= 1

    recovery = await until(opened, "the replayed habilitation's account")
    opened_at = time.monotonic()
    # Would a second application come? Not once identity's consumer committed past all that
    # the topic holds now (the replayed letter and any copy of it).
    await consumed_to_the_end(bootstrap, habilitation.TOPIC, "kairos-identity-accounts")
    accounts = await accounts_opened(world, burst)
    fault_row.events_in, fault_row.events_out = 1, min(accounts, 1)
    fault_row.duplicates, fault_row.lost = max(0, accounts - 1), int(accounts == 0)
    fault_row.recovery_s = opened_at - fixed
    fault_row.notes = f"{replayed} letter(s) replayed; account opened {recovery:.1f}s after"
    assert replayed == 1
    assert accounts == 1
    fault_row.outcome = "ok"


async def _adhesion_requested(world: World, seed: int) -> str:
    """An organisation that asked to adhere and is not validated yet."""
    body = {
        "siret": valid_siret(seed), "nda": "84690000069", "legal_name": f"Organisme {seed}",
        "address": {"street": "1 place Bellecour", "postal_code": "69002", "city": "Lyon"},
        "head": {"first_name": "Inès", "last_name": "Roux", "function": "Directrice",
                 "email": f"head.{seed}@of.example"},
        "rgc": {"first_name": "Paul", "last_name": "Rgc", "email": f"rgc.{seed}@of.example"},
        "terms": {"version": "2017-09-15", "accepted_on": "2026-01-05"},
    }  # fmt: skip
    requested = expect(await world.http["identity"].post("/v1/organisations", json=body), 201)
    return str(requested["organisation_id"])
