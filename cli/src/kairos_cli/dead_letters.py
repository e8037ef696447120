"""``kairos dead-letters list|replay SERVICE_OR_TOPIC``: the records consumers parked on
``<topic>.dlq`` (see :mod:`kairos_shared.dead_letters`), and putting them back."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from kairos_cli.common import (
    DEFAULT_KAFKA,
    KAFKA_TIMEOUT_SECONDS,
    SERVICES,
    JsonOption,
    KafkaOption,
    echo_json,
    fail,
    group_offsets,
    guarded,
    kafka_security,
    run,
    table,
)
from kairos_shared.dead_letters import DeadLetter, dead_letter_topic, replay_dead_letters
from kairos_shared.kafka import kafka_client_options
from kairos_shared.kafka_settings import KafkaSecuritySettings

REPLAY_GROUP = "kairos-dlq-replay"
"""The consumer group whose committed offsets on a dead-letter topic say what was replayed."""

app = typer.Typer(help="List and replay dead letters.", no_args_is_help=True)

Target = Annotated[
    str,
    typer.Argument(
        help="A service (identity, habilitation, declaration, notification), a topic "
        "(kairos.identity.v1) or its dead-letter topic (kairos.identity.v1.dlq)."
    ),
]
ReplayGroup = Annotated[
    str, typer.Option("--group", help="The consumer group that records replay progress.")
]


def dlq_topic(target: str) -> str:
    """The dead-letter topic meant by a service name, a topic or a dead-letter topic."""
    target = target.strip()
    if not target:
        fail("name a service or a topic", 2)
    if target in SERVICES:
        return dead_letter_topic(f"kairos.{target}.v1")
    return target if target.endswith(".dlq") else dead_letter_topic(target)


async def _require_topic(
    bootstrap_servers: str, topic: str, security: KafkaSecuritySettings | None
) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers.split(","), **kafka_client_options(security)
    )
    try:
        async with asyncio.timeout(KAFKA_TIMEOUT_SECONDS):
            await consumer.start()
            topics = await consumer.topics()
    except (KafkaError, TimeoutError, OSError) as error:
        fail(f"Kafka at {bootstrap_servers} does not answer: {type(error).__name__}: {error}")
    finally:
        await consumer.stop()
    if topic not in topics:
        fail(f"the topic {topic} does not exist on Kafka at {bootstrap_servers}")


async def _replayed_up_to(
    bootstrap_servers: str, topic: str, group: str, security: KafkaSecuritySettings | None
) -> dict[int, int]:
    """Per partition of ``topic``, the offset the replay group committed (what is before it
    has been replayed)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers.split(","), **kafka_client_options(security)
    )
    await admin.start()
    try:
        committed = await group_offsets(admin, group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in committed.items() if tp.topic == topic}


async def read_dead_letters(
    bootstrap_servers: str,
    topic: str,
    *,
    group: str = REPLAY_GROUP,
    idle_timeout: float = 1.0,
    security: KafkaSecuritySettings | None = None,
) -> list[dict[str, Any]]:
    """Every dead letter on ``topic`` (oldest first per partition), each with its partition and
    whether ``group`` replayed it already. Reads without a group: commits nothing."""
    await _require_topic(bootstrap_servers, topic, security)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers.split(","),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **kafka_client_options(security),
    )
    records: list[Any] = []
    try:
        await consumer.start()
        try:
            while batch := await consumer.getmany(timeout_ms=int(idle_timeout * 1000)):
                for partition_records in batch.values():
                    records.extend(partition_records)
        finally:
            await consumer.stop()
        replayed = await _replayed_up_to(bootstrap_servers, topic, group, security)
    except KafkaError as error:
        fail(f"reading {topic} failed: {type(error).__name__}: {error}")
    letters = []
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        letter = dataclasses.asdict(DeadLetter.from_record(record))
        letters.append({
            "dlq_partition": record.partition,
            **letter,
            "replayed": record.offset < replayed.get(record.partition, 0),
        })  # fmt: skip
    return letters


@app.command("list")
@guarded
def list_(target: Target, kafka: KafkaOption = DEFAULT_KAFKA, as_json: JsonOption = False) -> None:
    """List the dead letters of a service or topic: where each came from, which consumer
    failed, why, and whether it was replayed."""
    topic = dlq_topic(target)
    letters = run(read_dead_letters(kafka, topic, security=kafka_security()))
    if as_json:
        echo_json(letters)
        return
    if not letters:
        typer.echo(f"no dead letter on {topic}")
        return
    rows = [
        [
            f"{letter['dlq_partition']}:{letter['dlq_offset']}",
            f"{letter['original_topic']}[{letter['original_partition']}]@"
            f"{letter['original_offset']}",
            letter["consumer"], letter["event_type"] or "-", str(letter["attempts"]),
            letter["failed_at"], "yes" if letter["replayed"] else "no",
            letter["error"].splitlines()[0][:80] if letter["error"] else "",
        ]
        for letter in letters
    ]  # fmt: skip
    header = ["dlq", "from", "consumer", "event", "tries", "failed at", "replayed", "error"]
    typer.echo(table(rows, header))
    waiting = sum(not letter["replayed"] for letter in letters)
    typer.echo(f"{len(letters)} dead letter(s) on {topic}, {waiting} not replayed")


async def _replay(
    bootstrap_servers: str, topic: str, group: str, security: KafkaSecuritySettings
) -> int:
    await _require_topic(bootstrap_servers, topic, security)
    try:
        return await replay_dead_letters(
            bootstrap_servers, topic, group_id=group, security=security
        )
    except KafkaError as error:
        fail(f"the replay of {topic} stopped: {type(error).__name__}: {error}; run it again "
             "to resume (what was replayed is not replayed twice)")  # fmt: skip


@app.command()
@guarded
def replay(
    target: Target, kafka: KafkaOption = DEFAULT_KAFKA, group: ReplayGroup = REPLAY_GROUP
) -> None:
    """Put every dead letter not replayed yet back on its original topic, once each.

    The consumer that failed applies it again; the others recognise its event id and skip it.
    """
    topic = dlq_topic(target)
    replayed = run(_replay(kafka, topic, group, kafka_security()))
    typer.echo(f"replayed {replayed} dead letter(s) from {topic}")
