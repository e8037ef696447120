"""Idempotent consumers against the real PostgreSQL and Kafka: an event's effect happens once
however often it is delivered; a poison event is parked on the DLQ after bounded retries while
the next ones flow; a replay brings it back."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream.kafka import KafkaBroker

from kairos_devstack.pytest_plugin import TopicFactory
from kairos_devstack.testing import (
    TEST_EVENTS,
    CounterIncremented,
    counter_events,
    read_records,
    record_effect,
)
from kairos_schemas import Event
from kairos_shared import dead_letters, outbox
from kairos_shared.db import Connection
from kairos_shared.dead_letters import DeadLetterPublisher, list_dead_letters, replay_dead_letters
from kairos_shared.inbox import Delivery, Handler, IdempotentConsumer, Outcome, RetryPolicy
from kairos_shared.subscriber import subscribe

SOURCE = "/kairos/tests"
FAST_RETRIES = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05)


def _consumer(
    name: str,
    pool: asyncpg.Pool,
    handler: Handler,
    producer: AIOKafkaProducer,
    *,
    retry: RetryPolicy | None = None,
) -> IdempotentConsumer:
    """A consumer of the test event, parking failures on the topic's DLQ."""
    return IdempotentConsumer(
        name,
        pool,
        {CounterIncremented.event_type: handler},
        DeadLetterPublisher(producer),
        retry=retry,
        registry=TEST_EVENTS,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def producer(kafka_bootstrap_servers: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap_servers, enable_idempotence=True, acks="all"
    )
    await producer.start()
    yield producer
    await producer.stop()


def _messages(topic: str, events: list[CounterIncremented]) -> list[outbox.OutboxMessage]:
    return [outbox.outbox_message(event, source=SOURCE, topic=topic) for event in events]


async def _send_messages(producer: AIOKafkaProducer, messages: list[outbox.OutboxMessage]) -> None:
    for message in messages:
        await producer.send_and_wait(
            message.topic, value=message.value, key=message.key, headers=list(message.headers)
        )


async def _send(producer: AIOKafkaProducer, topic: str, events: list[CounterIncremented]) -> None:
    await _send_messages(producer, _messages(topic, events))


async def _effects(pool: asyncpg.Pool) -> list[tuple[str, int]]:
    rows = await pool.fetch("SELECT counter_id, seq FROM effects ORDER BY counter_id, seq")
    return [(row["counter_id"], row["seq"]) for row in rows]


async def test_consumer_killed_before_its_offset_commit_applies_the_redelivery_once(
    pool: asyncpg.Pool,
    kafka_bootstrap_servers: str,
    kafka_topic: TopicFactory,
    producer: AIOKafkaProducer,
) -> None:
    topic = await kafka_topic(partitions=1)
    events = counter_events(counters=1, steps=3)
    await _send(producer, topic, events)
    consumer = _consumer("effects", pool, record_effect, producer)
    group = f"group-{uuid.uuid4().hex}"

    async def consume_once(*, commit: bool) -> list[Outcome]:
        kafka = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await kafka.start()
        outcomes = []
        try:
            for _ in events:
                record = await asyncio.wait_for(kafka.getone(), 30)
                outcomes.append(await consumer.process(record))
                if commit:
                    await kafka.commit({TopicPartition(topic, 0): record.offset + 1})
        finally:
            await kafka.stop()  # "killed": when commit is False nothing was committed
        return outcomes

    assert await consume_once(commit=False) == [Outcome.APPLIED] * 3
    assert await consume_once(commit=True) == [Outcome.DUPLICATE] * 3
    assert await _effects(pool) == [(events[0].counter_id, s) for s in range(3)]


async def test_poison_event_is_dead_lettered_while_the_next_ones_are_applied_then_replayed(
    pool: asyncpg.Pool,
    kafka_bootstrap_servers: str,
    kafka_topic: TopicFactory,
    producer: AIOKafkaProducer,
) -> None:
    topic = await kafka_topic(partitions=1, dead_letters=True)
    events = counter_events(counters=1, steps=4)
    poison_seq = 1
    healed = False
    attempts = 0

    async def fragile(connection: Connection, event: Event, delivery: Delivery) -> None:
        nonlocal attempts
        assert isinstance(event, CounterIncremented)
        if event.seq == poison_seq and not healed:
            attempts += 1
            raise ValueError(f"cannot apply seq {event.seq} (password=hunter2)")
        await record_effect(connection, event, delivery)

    consumer = _consumer("fragile", pool, fragile, producer, retry=FAST_RETRIES)
    broker = KafkaBroker(kafka_bootstrap_servers)
    subscribe(broker, topic, consumer, group_id=f"group-{uuid.uuid4().hex}", retry_pause=0.1)
    await _send(producer, topic, events)
    async with broker:
        await broker.start()
        await _wait_for(lambda: _count(pool), 3)

    assert attempts == FAST_RETRIES.max_attempts
    counter = events[0].counter_id
    assert await _effects(pool) == [(counter, 0), (counter, 2), (counter, 3)]
    (letter,) = await list_dead_letters(
        kafka_bootstrap_servers, dead_letters.dead_letter_topic(topic)
    )
    assert letter.original_topic == topic
    assert letter.original_offset == 1
    assert letter.attempts == FAST_RETRIES.max_attempts
    assert letter.consumer == "fragile"
    assert "cannot apply seq 1" in letter.error
    assert "hunter2" not in letter.error
    assert letter.event_type == CounterIncremented.event_type

    listed = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kairos_shared.dead_letters",
        "list",
        topic,
        "--bootstrap-servers",
        kafka_bootstrap_servers,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await listed.communicate()
    assert listed.returncode == 0
    (line,) = stdout.decode().splitlines()
    assert json.loads(line)["event_id"] == letter.event_id

    healed = True
    replayed = await replay_dead_letters(
        kafka_bootstrap_servers, dead_letters.dead_letter_topic(topic)
    )
    assert replayed == 1
    async with broker:
        await broker.start()
        await _wait_for(lambda: _count(pool), 4)
    assert await _effects(pool) == [(counter, s) for s in range(4)]
    # A second replay finds nothing new: progress is committed.
    assert (
        await replay_dead_letters(kafka_bootstrap_servers, dead_letters.dead_letter_topic(topic))
        == 0
    )


async def test_unreadable_and_schema_violating_records_go_straight_to_the_dlq(
    pool: asyncpg.Pool,
    kafka_bootstrap_servers: str,
    kafka_topic: TopicFactory,
    producer: AIOKafkaProducer,
) -> None:
    topic = await kafka_topic(partitions=1, dead_letters=True)
    dlq = dead_letters.dead_letter_topic(topic)
    (good,) = counter_events(counters=1, steps=1)
    message = outbox.outbox_message(good, source=SOURCE, topic=topic)
    await producer.send_and_wait(topic, value=b"not json", key=b"k", headers=list(message.headers))
    await producer.send_and_wait(
        topic, value=b'{"counter_id": "c", "seq": "many"}', key=b"c", headers=list(message.headers)
    )
    await producer.send_and_wait(
        topic, value=message.value, key=message.key, headers=list(message.headers)
    )
    calls = 0

    async def counting(connection: Connection, event: Event, delivery: Delivery) -> None:
        nonlocal calls
        calls += 1
        await record_effect(connection, event, delivery)

    consumer = _consumer("strict", pool, counting, producer, retry=FAST_RETRIES)
    kafka = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=f"g-{uuid.uuid4().hex}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await kafka.start()
    try:
        outcomes = [await consumer.process(await kafka.getone()) for _ in range(3)]
    finally:
        await kafka.stop()
    # The third record has the same event id as the second: the id is only recorded when applied.
    assert outcomes == [Outcome.DEAD_LETTERED, Outcome.DEAD_LETTERED, Outcome.APPLIED]
    assert calls == 1
    letters = await list_dead_letters(kafka_bootstrap_servers, dlq)
    assert [letter.attempts for letter in letters] == [1, 1], "no retries for a bad record"
    assert letters[0].error.startswith("not a CloudEvent: value is not JSON"), letters[0].error
    assert "seq" in letters[1].error


async def test_faststream_subscriber_applies_each_event_once_and_commits(
    pool: asyncpg.Pool,
    kafka_bootstrap_servers: str,
    kafka_topic: TopicFactory,
    producer: AIOKafkaProducer,
) -> None:
    topic = await kafka_topic(partitions=3)
    events = counter_events(counters=4, steps=10)
    consumer = _consumer("effects", pool, record_effect, producer)
    group = f"group-{uuid.uuid4().hex}"
    broker = KafkaBroker(kafka_bootstrap_servers)
    subscribe(broker, topic, consumer, group_id=group)
    messages = _messages(topic, events)
    await _send_messages(producer, messages + messages[:5])  # the first five delivered twice
    records = await read_records(kafka_bootstrap_servers, topic, at_least=len(events) + 5)
    ends: dict[int, int] = {}
    for record in records:
        ends[record.partition] = max(ends.get(record.partition, 0), record.offset + 1)
    async with broker:
        await broker.start()
        await _wait_for(lambda: _count(pool), len(events))
        # Every record handled, the redeliveries included: the group's offsets are committed
        # to the end of each partition (the subscriber commits a record once it is handled).
        await _until_committed(kafka_bootstrap_servers, group, topic, ends)
    assert await _count(pool) == len(events)


async def _until_committed(
    kafka_bootstrap_servers: str, group: str, topic: str, ends: dict[int, int], timeout: float = 60
) -> None:
    """Wait until `group` has committed each partition of `topic` exactly up to `ends`."""
    kafka = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap_servers, group_id=group)
    await kafka.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            committed = {p: await kafka.committed(TopicPartition(topic, p)) for p in ends}
            if committed == ends:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{group} committed {committed}, not {ends}, in {timeout} s")
            await asyncio.sleep(0.05)
    finally:
        await kafka.stop()


async def _count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM effects"))


async def _wait_for(
    measure: Callable[[], Awaitable[int]], expected: int, timeout: float = 60
) -> None:
    async with asyncio.timeout(timeout):
        while await measure() < expected:  # noqa: ASYNC110 - polling the database
            await asyncio.sleep(0.05)
