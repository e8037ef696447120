"""Outbox and relay against the real PostgreSQL and Kafka: what commits is published exactly
once, in order per key; what rolls back never is; two relays at once keep both properties."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import uuid
from collections import defaultdict
from datetime import timedelta

import asyncpg
import pytest
from aiokafka import ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from kairos_devstack.pytest_plugin import TopicFactory
from kairos_devstack.testing import (
    TEST_EVENTS,
    CounterIncremented,
    counter_events,
    read_records,
    record_effect,
)
from kairos_schemas import CloudEvent, parse_event
from kairos_shared import outbox
from kairos_shared.db import Connection
from kairos_shared.dead_letters import DeadLetterPublisher
from kairos_shared.inbox import IdempotentConsumer, Outcome
from kairos_shared.metrics import ServiceMetrics
from kairos_shared.relay import _CLAIM, OutboxRelay, RelaySettings, list_parked

SOURCE = "/kairos/tests"


async def _commit_each(pool: asyncpg.Pool, topic: str, events: list[CounterIncremented]) -> None:
    """One transaction per event, like state changes arriving one by one."""
    for event in events:
        async with pool.acquire() as connection, connection.transaction():
            await outbox.append(
                connection, [outbox.outbox_message(event, source=SOURCE, topic=topic)]
            )


def _relay(pool: asyncpg.Pool, dsn: str, kafka: str, **settings: object) -> OutboxRelay:
    return OutboxRelay(
        pool,
        dsn,
        kafka,
        client_id="test",
        settings=RelaySettings(**settings),  # type: ignore[arg-type]
    )


def _sequences(records: list[ConsumerRecord[bytes, bytes]]) -> dict[str, list[int]]:
    """seq numbers per counter, in the order Kafka delivered them (per partition = per key)."""
    by_counter: dict[str, list[int]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        event = parse_event(
            CloudEvent.from_kafka(record.key, record.value, record.headers), registry=TEST_EVENTS
        )
        assert isinstance(event, CounterIncremented)
        assert record.key == event.counter_id.encode()
        by_counter[event.counter_id].append(event.seq)
    return by_counter


async def _unpublished(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))


async def test_committed_events_are_published_once_in_order_per_key(
    pool: asyncpg.Pool, database_url: str, kafka_bootstrap_servers: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic(partitions=3)
    events = counter_events(counters=5, steps=20)
    await _commit_each(pool, topic, events)
    relay = _relay(pool, database_url, kafka_bootstrap_servers, batch_size=17)
    await relay.producer.start()
    try:
        assert await relay.drain() == len(events)
        assert await relay.drain() == 0
    finally:
        await relay.producer.stop()

    records = await read_records(kafka_bootstrap_servers, topic, at_least=len(events))
    assert len(records) == len(events)
    ids = [dict(r.headers)["ce_id"] for r in records]
    assert len(set(ids)) == len(ids)
    assert all(seqs == list(range(20)) for seqs in _sequences(records).values())
    assert await _unpublished(pool) == 0


async def test_rolled_back_events_are_never_published(
    pool: asyncpg.Pool, database_url: str, kafka_bootstrap_servers: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic(partitions=1)
    doomed, kept = counter_events(counters=2, steps=1)

    async def failing_state_change() -> None:
        async with pool.acquire() as connection, connection.transaction():
            await outbox.append(
                connection, [outbox.outbox_message(doomed, source=SOURCE, topic=topic)]
            )
            raise RuntimeError("state change failed")

    with pytest.raises(RuntimeError, match="state change failed"):
        await failing_state_change()
    await _commit_each(pool, topic, [kept])
    relay = _relay(pool, database_url, kafka_bootstrap_servers)
    await relay.producer.start()
    try:
        assert await relay.drain() == 1
    finally:
        await relay.producer.stop()
    records = await read_records(kafka_bootstrap_servers, topic, at_least=1)
    assert list(_sequences(records)) == [kept.counter_id]


async def test_append_outside_a_transaction_is_refused(pool: asyncpg.Pool) -> None:
    (event,) = counter_events(counters=1, steps=1)
    async with pool.acquire() as connection:
        with pytest.raises(RuntimeError, match="inside the state change's transaction"):
            await outbox.append(connection, [outbox.outbox_message(event, source=SOURCE)])
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_two_relays_at_once_publish_each_event_once_in_order_per_key(
    pool: asyncpg.Pool, database_url: str, kafka_bootstrap_servers: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic(partitions=3)
    events = counter_events(counters=8, steps=40)
    relays = [
        _relay(pool, database_url, kafka_bootstrap_servers, batch_size=7, poll_interval=0.05)
        for _ in range(2)
    ]
    running = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        # Writers keep committing while both relays run, in four concurrent streams.
        await asyncio.gather(*(_commit_each(pool, topic, events[i::4]) for i in range(4)))
        async with asyncio.timeout(60):
            while await _unpublished(pool):  # noqa: ASYNC110 - polling the database, not a flag
                await asyncio.sleep(0.1)
    finally:
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    assert all(relay.published > 0 for relay in relays), "both relays should have had work"
    records = await read_records(kafka_bootstrap_servers, topic, at_least=len(events))
    ids = [dict(r.headers)["ce_id"] for r in records]
    assert len(ids) == len(events) == len(set(ids))
    # 8 counters interleaved, every 4th event: each stream writes two counters' events in seq
    # order, so each counter's commit order is its seq order, and Kafka must keep it.
    sequences = _sequences(records)
    assert len(sequences) == 8
    assert all(seqs == list(range(40)) for seqs in sequences.values())


class _CrashAfterPublishRelay(OutboxRelay):
    """A relay that dies after Kafka acknowledged but before marking the rows published."""

    async def _mark_published(self, connection: Connection, ids: list[int]) -> None:  # noqa: ARG002 - crashes before using them
        raise ConnectionResetError("relay killed between publish and mark")


async def test_relay_killed_between_publish_and_mark_publishes_again(
    pool: asyncpg.Pool, database_url: str, kafka_bootstrap_servers: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic(partitions=1)
    events = counter_events(counters=1, steps=3)
    await _commit_each(pool, topic, events)
    crashing = _CrashAfterPublishRelay(pool, database_url, kafka_bootstrap_servers, client_id="t")
    await crashing.producer.start()
    try:
        with pytest.raises(ConnectionResetError):
            await crashing.drain()
    finally:
        await crashing.producer.stop()
    assert await _unpublished(pool) == 3, "the rows are still to publish"

    relay = _relay(pool, database_url, kafka_bootstrap_servers)
    consumer = IdempotentConsumer(
        "effects",
        pool,
        {CounterIncremented.event_type: record_effect},
        DeadLetterPublisher(relay.producer),
        registry=TEST_EVENTS,
    )
    await relay.producer.start()
    try:
        assert await relay.drain() == 3
        records = await read_records(kafka_bootstrap_servers, topic, at_least=6)
        records.sort(key=lambda record: record.offset)
        ids = [dict(r.headers)["ce_id"] for r in records]
        assert len(ids) == 6, "at least once: each event published twice"
        assert len(set(ids)) == 3, "with the same event id both times"
        # ... and the consumer's effect still happens once per event.
        outcomes = [await consumer.process(record) for record in records]
    finally:
        await relay.producer.stop()
    assert outcomes == [Outcome.APPLIED] * 3 + [Outcome.DUPLICATE] * 3
    rows = await pool.fetch("SELECT seq FROM effects ORDER BY seq")
    assert [row["seq"] for row in rows] == [0, 1, 2]


async def test_published_rows_are_purged_after_the_retention(
    pool: asyncpg.Pool, database_url: str, kafka_bootstrap_servers: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic(partitions=1)
    await _commit_each(pool, topic, counter_events(counters=1, steps=3))
    relay = _relay(pool, database_url, kafka_bootstrap_servers, retention=timedelta(hours=1))
    await relay.producer.start()
    try:
        await relay.drain()
        assert await relay.purge() == 0, "published within the retention: kept"
        await pool.execute("UPDATE outbox SET published_at = published_at - interval '2 hours'")
        await _commit_each(pool, topic, counter_events(counters=1, steps=1))  # not published
        assert await relay.purge() == 3
    finally:
        await relay.producer.stop()
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1


async def test_a_relay_woken_as_it_is_cancelled_still_stops(
    pool: asyncpg.Pool, database_url: str, kafka_bootstrap_servers: str
) -> None:
    """A wake-up (a NOTIFY) landing together with the shutdown's cancellation must not swallow
    the cancellation: on Python 3.11 `asyncio.wait_for` did, and the service never stopped."""
    relay = _relay(pool, database_url, kafka_bootstrap_servers, poll_interval=3600)
    drained = asyncio.Event()
    drain = relay.drain

    async def drain_and_tell() -> int:
        count = await drain()
        drained.set()
        return count

    relay.drain = drain_and_tell  # type: ignore[method-assign]  # observes the relay's round
    running = asyncio.create_task(relay.run())
    # Connected and listening, it drained the empty outbox; from the end of its round to its
    # wait for a wake-up it never yields, so once this task runs again the relay is waiting.
    try:
        await asyncio.wait_for(drained.wait(), 30)
    except TimeoutError:
        raise AssertionError("the relay never finished its first round") from None
    assert not running.done()
    relay._wake.set()  # the wake-up and the cancellation in the same instant
    running.cancel()
    done, _ = await asyncio.wait({running}, timeout=15)
    assert done, "the relay ignored its cancellation"
    assert running.cancelled()


async def test_a_relay_cancelled_while_it_opens_its_listener_leaves_no_connection_open(
    pool: asyncpg.Pool,
    database_url: str,
    kafka_bootstrap_servers: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A shutdown landing between `connect` and `LISTEN` closed nothing: the connection was
    left to the garbage collector (the ResourceWarning that failed a CI run)."""
    opened: list[asyncpg.Connection] = []
    listening = asyncio.Event()
    connect = asyncpg.connect

    async def recording_connect(dsn: str) -> asyncpg.Connection:
        connection: asyncpg.Connection = await connect(dsn)
        opened.append(connection)
        return connection

    async def never_listening(*_: object) -> None:
        listening.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(asyncpg, "connect", recording_connect)
    monkeypatch.setattr(asyncpg.Connection, "add_listener", never_listening)
    relay = _relay(pool, database_url, kafka_bootstrap_servers)
    running = asyncio.create_task(relay.run())
    async with asyncio.timeout(30):
        await listening.wait()
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    assert len(opened) == 1
    assert opened[0].is_closed()


def _plan_nodes(plan: dict[str, object]) -> list[dict[str, object]]:
    children = plan.get("Plans", [])
    assert isinstance(children, list)
    return [plan, *(node for child in children for node in _plan_nodes(child))]


async def test_the_claim_reads_its_candidates_once_even_with_stale_statistics(
    pool: asyncpg.Pool,
) -> None:
    """Statistics taken while the outbox was nearly empty, then thousands of rows to relay (as
    at the start of a busy day): the claim must not scan its candidate list once per outbox
    row. It did, through ``id IN (SELECT …)``: 50 s to claim 500 of 2000 rows."""
    topic = "kairos.test.stale-statistics"
    messages = [
        outbox.outbox_message(CounterIncremented(counter_id=f"c{i}", seq=i), source=SOURCE,
                              topic=topic)
        for i in range(2020)
    ]  # fmt: skip
    async with pool.acquire() as connection:
        async with connection.transaction():
            await outbox.append(connection, messages[:20])
        await connection.execute("UPDATE outbox SET published_at = clock_timestamp()")
        await connection.execute("ANALYZE outbox")
        async with connection.transaction():
            await outbox.append(connection, messages[20:])
        async with connection.transaction():
            explained = await connection.fetchval(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {_CLAIM}", 500, 0x4B4F
            )
    plan = json.loads(explained)[0]["Plan"]
    per_outbox_row = [
        (node["CTE Name"], node["Actual Loops"]) for node in _plan_nodes(plan)
        if node["Node Type"] == "CTE Scan" and int(str(node["Actual Loops"])) > 500
    ]  # fmt: skip
    assert per_outbox_row == [], "the claim scans a list again for every outbox row"
    claimed = [node["Actual Rows"] for node in _plan_nodes(plan) if node["Node Type"] == "LockRows"]
    assert claimed == [500]


async def _commit_with_poison(
    pool: asyncpg.Pool, topic: str, events: list[CounterIncremented], *, poison_at: int
) -> str:
    """Commit ``events`` one by one, with an 8 kB event (a copy of event ``poison_at``, same key)
    right after that one; returns the poisoned event's id."""
    poisoned = outbox.outbox_message(events[poison_at], source=SOURCE, topic=topic)
    poisoned = dataclasses.replace(
        poisoned, event_id=f"poison-{poisoned.event_id}", value=b'{"pad":"' + b"x" * 8000 + b'"}'
    )
    await _commit_each(pool, topic, events[: poison_at + 1])
    async with pool.acquire() as connection, connection.transaction():
        await outbox.append(connection, [poisoned])
    await _commit_each(pool, topic, events[poison_at + 1 :])
    return poisoned.event_id


async def _assert_parked_and_the_rest_published(
    pool: asyncpg.Pool,
    relay: OutboxRelay,
    kafka: str,
    *,
    topic: str,
    events: list[CounterIncremented],
    poison_id: str,
) -> None:
    await relay.producer.start()
    try:
        assert await relay.drain() == len(events) + 1
        assert await relay.drain() == 0
    finally:
        await relay.producer.stop()
    records = await read_records(kafka, topic, at_least=len(events))
    ids = [dict(r.headers)["ce_id"].decode() for r in records]
    assert len(ids) == len(set(ids)) == len(events)
    assert poison_id not in ids
    assert all(seqs == list(range(4)) for seqs in _sequences(records).values())
    assert await _unpublished(pool) == 0
    parked = await pool.fetch("SELECT event_id, topic, reason FROM outbox_parked")
    assert [(row["event_id"], row["topic"]) for row in parked] == [(poison_id, topic)]
    assert "TooLarge" in parked[0]["reason"], parked[0]["reason"]
    async with pool.acquire() as connection:  # what `kairos outbox parked` shows
        (listed,) = await list_parked(connection)
    assert (listed["event_id"], listed["size_bytes"]) == (poison_id, 8010)
    assert (relay.published, relay.parked) == (len(events), 1)
    assert relay.metrics is not None
    assert relay.metrics.events_parked.labels(topic)._value.get() == 1


async def test_a_row_too_large_for_the_producer_is_parked_and_the_rows_behind_it_go(
    pool: asyncpg.Pool, database_url: str, kafka_bootstrap_servers: str, kafka_topic: TopicFactory
) -> None:
    """The incident: a 1.2 MB correspondent e-mail made every round fail for ever."""
    topic = await kafka_topic(partitions=3)
    events = counter_events(counters=3, steps=4)
    poison_id = await _commit_with_poison(pool, topic, events, poison_at=1)
    relay = OutboxRelay(
        pool, database_url, kafka_bootstrap_servers, client_id="test",
        settings=RelaySettings(max_request_size=4096), metrics=ServiceMetrics("test"),
    )  # fmt: skip
    await _assert_parked_and_the_rest_published(
        pool, relay, kafka_bootstrap_servers, topic=topic, events=events, poison_id=poison_id
    )


async def test_a_row_the_broker_refuses_for_its_size_is_parked_and_the_rows_behind_it_go(
    pool: asyncpg.Pool, database_url: str, kafka_bootstrap_servers: str
) -> None:
    topic = f"test.small.{uuid.uuid4().hex}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([
            NewTopic(topic, 3, 1, topic_configs={"max.message.bytes": "4096"})
        ])  # fmt: skip
        events = counter_events(counters=3, steps=4)
        poison_id = await _commit_with_poison(pool, topic, events, poison_at=2)
        relay = OutboxRelay(
            pool, database_url, kafka_bootstrap_servers, client_id="test",
            settings=RelaySettings(), metrics=ServiceMetrics("test"),
        )  # fmt: skip
        await _assert_parked_and_the_rest_published(
            pool, relay, kafka_bootstrap_servers, topic=topic, events=events, poison_id=poison_id
        )
    finally:
        await admin.delete_topics([topic])
        await admin.close()


async def test_a_relay_whose_rounds_keep_failing_reports_how_long_it_has_stalled(
    pool: asyncpg.Pool, database_url: str, kafka_bootstrap_servers: str
) -> None:
    relay = _relay(pool, database_url, kafka_bootstrap_servers, max_backoff=0.05)
    failures = 0

    async def failing_drain() -> int:
        nonlocal failures
        failures += 1
        raise ConnectionError("broker gone")

    relay.drain = failing_drain  # type: ignore[method-assign]
    running = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(10):
            while failures < 5 or relay.stalled_for() < 0.2:  # noqa: ASYNC110 - a barrier
                await asyncio.sleep(0.02)
        assert relay.last_error == "ConnectionError('broker gone')"
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
