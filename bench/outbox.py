"""Outbox relay throughput and commit→consumer latency, against raw aiokafka produce→consume.

Run: ``make bench`` (or ``.venv/bin/python bench/outbox.py [--events N]``). Each figure is
printed beside the raw baseline measured in the same run, on the same Kafka, and as a ratio.

- raw: an idempotent aiokafka producer (acks=all) sends N records as fast as it can; a consumer
  reads them; latency = receive time - send time of each record.
- outbox: N events are committed one transaction each (4 concurrent writers) while a relay runs;
  a consumer reads them; latency = receive time - commit time; throughput = N / (last received -
  first commit).
- drain: N events already in the outbox; one relay publishes them all (events/s).
- commits: the same 4 writers' commit rate with a raw asyncpg insert+commit of the same bytes
  into a plain table, against the outbox append (what the outbox costs a writer).
- round trip: one event at a time (no queueing): raw send→receive against commit→receive.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from infra import Infrastructure, headline, infrastructure, percentile, write_results

from kairos_devstack.testing import CounterIncremented
from kairos_devstack.topics import create_topics
from kairos_shared import outbox
from kairos_shared.migrations import apply_migrations
from kairos_shared.relay import OutboxRelay
from kairos_shared.runtime import SHARED_MIGRATIONS

WRITERS = 4


async def _consume(kafka: str, topic: str, count: int, stamps: dict[bytes, float]) -> list[float]:
    """Latencies (ms) of ``count`` records; ``stamps`` maps a record's ce_id to its start time."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    latencies: list[float] = []
    try:
        while len(latencies) < count:
            batch = await consumer.getmany(timeout_ms=1000)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    event_id = dict(record.headers)["ce_id"]
                    while event_id not in stamps:  # noqa: ASYNC110 - set just after the commit
                        await asyncio.sleep(0)
                    latencies.append((now - stamps[event_id]) * 1000)
    finally:
        await consumer.stop()
    return latencies


def _messages(topic: str, count: int) -> list[outbox.OutboxMessage]:
    counters = [f"counter-{i}" for i in range(64)]
    return [
        outbox.outbox_message(
            CounterIncremented(counter_id=counters[i % 64], seq=i), source="/bench", topic=topic
        )
        for i in range(count)
    ]


async def raw_produce_consume(kafka: str, count: int) -> dict[str, float]:
    topic = f"bench.raw.{uuid.uuid4().hex}"
    await create_topics(kafka, [topic], partitions=6)
    messages = _messages(topic, count)
    stamps: dict[bytes, float] = {}
    consuming = asyncio.create_task(_consume(kafka, topic, count, stamps))
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True, acks="all")
    await producer.start()
    started = time.perf_counter()
    try:
        sent = []
        for message in messages:
            stamps[dict(message.headers)["ce_id"]] = time.perf_counter()
            sent.append(
                await producer.send(
                    topic, value=message.value, key=message.key, headers=list(message.headers)
                )
            )
        await asyncio.gather(*sent)
        latencies = await consuming
    finally:
        await producer.stop()
    return _figures(count, time.perf_counter() - started, latencies)


async def _database(infra: Infrastructure) -> tuple[str, asyncpg.Pool]:
    name = f"bench_{uuid.uuid4().hex}"
    admin = await asyncpg.connect(infra.postgres_admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    dsn = infra.postgres_admin_dsn.rpartition("/")[0] + f"/{name}"
    pool = await asyncpg.create_pool(dsn, min_size=WRITERS + 2, max_size=WRITERS + 4)
    assert pool is not None
    async with pool.acquire() as connection:
        await apply_migrations(connection, SHARED_MIGRATIONS, component="kairos_shared")
    return dsn, pool


async def outbox_commit_to_consumer(infra: Infrastructure, count: int) -> dict[str, float]:
    topic = f"bench.outbox.{uuid.uuid4().hex}"
    await create_topics(infra.kafka, [topic], partitions=6)
    dsn, pool = await _database(infra)
    messages = _messages(topic, count)
    stamps: dict[bytes, float] = {}
    relay = OutboxRelay(pool, dsn, infra.kafka, client_id="bench")
    relaying = asyncio.create_task(relay.run())
    consuming = asyncio.create_task(_consume(infra.kafka, topic, count, stamps))

    async def writer(part: list[outbox.OutboxMessage]) -> None:
        for message in part:
            async with pool.acquire() as connection, connection.transaction():
                await outbox.append(connection, [message])
            stamps[dict(message.headers)["ce_id"]] = time.perf_counter()

    await asyncio.sleep(0.5)  # the relay is listening
    started = time.perf_counter()
    await asyncio.gather(*(writer(messages[i::WRITERS]) for i in range(WRITERS)))
    latencies = await consuming
    elapsed = time.perf_counter() - started
    relaying.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await relaying
    await pool.close()
    return _figures(count, elapsed, latencies)


async def outbox_drain(infra: Infrastructure, count: int) -> dict[str, float]:
    topic = f"bench.drain.{uuid.uuid4().hex}"
    await create_topics(infra.kafka, [topic], partitions=6)
    dsn, pool = await _database(infra)
    messages = _messages(topic, count)
    async with pool.acquire() as connection, connection.transaction():
        await outbox.append(connection, messages)
    relay = OutboxRelay(pool, dsn, infra.kafka, client_id="bench")
    await relay.producer.start()
    started = time.perf_counter()
    published = await relay.drain()
    elapsed = time.perf_counter() - started
    await relay.producer.stop()
    await pool.close()
    assert published == count
    return {"events": count, "seconds": elapsed, "events_per_s": count / elapsed}


ROUND_TRIPS = 200


async def raw_round_trip(kafka: str, count: int = ROUND_TRIPS) -> list[float]:
    topic = f"bench.rtt.{uuid.uuid4().hex}"
    await create_topics(kafka, [topic], partitions=1)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, group_id=None)
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True, acks="all")
    await asyncio.gather(consumer.start(), producer.start())
    await asyncio.sleep(1.0)  # assignment done, positioned at the end
    latencies = []
    try:
        for message in _messages(topic, count):
            started = time.perf_counter()
            await producer.send(topic, value=message.value, key=message.key)
            await consumer.getone()
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        await asyncio.gather(consumer.stop(), producer.stop())
    return latencies


async def outbox_round_trip(infra: Infrastructure) -> list[float]:
    topic = f"bench.ortt.{uuid.uuid4().hex}"
    await create_topics(infra.kafka, [topic], partitions=1)
    dsn, pool = await _database(infra)
    relay = OutboxRelay(pool, dsn, infra.kafka, client_id="bench")
    relaying = asyncio.create_task(relay.run())
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=infra.kafka, group_id=None)
    await consumer.start()
    await asyncio.sleep(1.0)
    latencies = []
    try:
        for message in _messages(topic, ROUND_TRIPS):
            async with pool.acquire() as connection, connection.transaction():
                await outbox.append(connection, [message])
            started = time.perf_counter()
            await consumer.getone()
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        await consumer.stop()
        relaying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relaying
        await pool.close()
    return latencies


async def raw_commits(infra: Infrastructure, count: int) -> float:
    """Commits/s of a plain insert+commit of the same bytes, one row per transaction."""
    _, pool = await _database(infra)
    await pool.execute("CREATE TABLE raw_rows (id bigserial PRIMARY KEY, key bytea, value bytea)")
    messages = _messages("raw", count)

    async def writer(part: list[outbox.OutboxMessage]) -> None:
        for message in part:
            async with pool.acquire() as connection, connection.transaction():
                await connection.execute(
                    "INSERT INTO raw_rows (key, value) VALUES ($1, $2)", message.key, message.value
                )

    started = time.perf_counter()
    await asyncio.gather(*(writer(messages[i::WRITERS]) for i in range(WRITERS)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return count / elapsed


def _figures(count: int, elapsed: float, latencies: list[float]) -> dict[str, float]:
    return {
        "events": count,
        "seconds": elapsed,
        "events_per_s": count / elapsed,
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p99_ms": percentile(latencies, 99),
    }


def _table(results: dict[str, Any]) -> str:
    raw, relayed, drain = (
        results["raw_produce_consume"],
        results["outbox_commit_to_consumer"],
        results["outbox_drain"],
    )
    raw_rtt, outbox_rtt = results["raw_round_trip_ms"], results["outbox_round_trip_ms"]
    rows = [
        ("relay throughput (events/s)", raw["events_per_s"], drain["events_per_s"]),
        ("writer commits/s (4 writers)", results["raw_commits_per_s"], relayed["events_per_s"]),
        ("under load: latency p50 (ms)", raw["latency_p50_ms"], relayed["latency_p50_ms"]),
        ("under load: latency p99 (ms)", raw["latency_p99_ms"], relayed["latency_p99_ms"]),
        ("one at a time: latency p50 (ms)", raw_rtt["p50"], outbox_rtt["p50"]),
        ("one at a time: latency p99 (ms)", raw_rtt["p99"], outbox_rtt["p99"]),
    ]
    lines = [f"{'measure':<34}{'raw baseline':>14}{'outbox':>12}{'ratio':>9}"]
    lines += [
        f"{name:<34}{base:>14.1f}{ours:>12.1f}{ours / base:>9.2f}" for name, base, ours in rows
    ]
    return "\n".join(lines)


async def main(count: int) -> dict[str, Any]:
    with infrastructure() as infra:
        results: dict[str, Any] = {
            "raw_produce_consume": await raw_produce_consume(infra.kafka, count),
            "outbox_commit_to_consumer": await outbox_commit_to_consumer(infra, count),
            "outbox_drain": await outbox_drain(infra, count),
            "raw_commits_per_s": await raw_commits(infra, count),
        }
        for name, measure in (
            ("raw_round_trip_ms", raw_round_trip(infra.kafka)),
            ("outbox_round_trip_ms", outbox_round_trip(infra)),
        ):
            latencies = await measure
            results[name] = {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}
    raw, relayed, drain = (
        results["raw_produce_consume"], results["outbox_commit_to_consumer"],
        results["outbox_drain"],
    )  # fmt: skip
    results["headline"] = [
        headline("relay drain", "events/s", raw["events_per_s"], drain["events_per_s"]),
        headline("commit→consumer under load, p99", "ms", raw["latency_p99_ms"],
                 relayed["latency_p99_ms"]),
        headline("commit→consumer one at a time, p99", "ms", results["raw_round_trip_ms"]["p99"],
                 results["outbox_round_trip_ms"]["p99"]),
    ]  # fmt: skip
    print(
        f"outbox relay: {count} events, {WRITERS} writers, 6 partitions; {ROUND_TRIPS} round trips"
    )
    print(_table(results))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    results = asyncio.run(main(args.events))
    print(f"results: {write_results('outbox', results)}")
