"""``kairos dead-letters list|replay`` and ``kairos lag`` against the real Kafka."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from kairos_shared.dead_letters import PREFIX, DeadLetterPublisher

Kairos = Any  # the conftest's fixture type (test modules cannot import the conftest)
TopicFactory = Any


async def _read_all(bootstrap_servers: str, topic: str) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list[Any] = []
    try:
        while batch := await consumer.getmany(timeout_ms=1500):
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


async def test_a_dead_letter_is_listed_then_replayed_once(
    kairos: Kairos, kafka_bootstrap_servers: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic("cli-dlq", partitions=1, dead_letters=True)
    event_id = str(uuid.uuid4())
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, b'{"organisation_id": "o-1"}', key=b"o-1",
            headers=[("ce_id", event_id.encode()), ("ce_type", b"fr.kairos.test.failed.v1")],
        )  # fmt: skip
        (original,) = await _read_all(kafka_bootstrap_servers, topic)
        await DeadLetterPublisher(producer).publish(
            original, consumer="kairos-identity-projector",
            error="ValueError: cannot apply (postgresql://app:db-pw-42@db/x)", attempts=5,
        )  # fmt: skip
    finally:
        await producer.stop()
    kafka = f"--kafka={kafka_bootstrap_servers}"

    listed = await kairos("dead-letters", "list", topic, kafka, "--json")
    assert listed.exit_code == 0, listed.output
    (letter,) = json.loads(listed.stdout)
    assert letter["original_topic"] == topic
    assert letter["original_offset"] == original.offset
    assert letter["consumer"] == "kairos-identity-projector"
    assert letter["event_id"] == event_id
    assert letter["attempts"] == 5
    assert letter["replayed"] is False
    assert "db-pw-42" not in listed.stdout

    table = await kairos("dead-letters", "list", f"{topic}.dlq", kafka)
    assert table.exit_code == 0, table.output
    assert "kairos-identity-projector" in table.stdout
    assert "1 dead letter(s)" in table.stdout
    assert "1 not replayed" in table.stdout

    replayed = await kairos("dead-letters", "replay", topic, kafka)
    assert replayed.exit_code == 0, replayed.output
    assert f"replayed 1 dead letter(s) from {topic}.dlq" in replayed.stdout
    again = await kairos("dead-letters", "replay", f"{topic}.dlq", kafka)
    assert again.exit_code == 0, again.output
    assert "replayed 0 dead letter(s)" in again.stdout

    records = await _read_all(kafka_bootstrap_servers, topic)
    copies = [r for r in records if dict(r.headers).get("ce_id") == event_id.encode()]
    assert len(copies) == 2  # the original and its one replay
    replay = copies[1]
    assert replay.key == b"o-1"
    assert replay.value == b'{"organisation_id": "o-1"}'
    assert not [name for name, _ in replay.headers if name.startswith(PREFIX)]

    after = await kairos("dead-letters", "list", topic, kafka, "--json")
    assert [entry["replayed"] for entry in json.loads(after.stdout)] == [True]


async def test_dead_letters_of_a_missing_topic_is_a_clear_error(
    kairos: Kairos, kafka_bootstrap_servers: str
) -> None:
    missing = f"cli-missing.{uuid.uuid4().hex}"
    result = await kairos("dead-letters", "list", missing, f"--kafka={kafka_bootstrap_servers}")

    assert result.exit_code == 1
    assert f"the topic {missing}.dlq does not exist" in result.stderr


async def test_a_service_name_means_its_dead_letter_topic(kairos: Kairos) -> None:
    result = await kairos("dead-letters", "list", "identity", "--kafka=127.0.0.1:1")

    assert result.exit_code == 1
    assert "Kafka at 127.0.0.1:1 does not answer" in result.stderr


async def test_lag_is_the_end_offset_minus_the_committed_offset(
    kairos: Kairos, kafka_bootstrap_servers: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic("cli-lag", partitions=2)
    prefix = f"lagtest-{uuid.uuid4().hex[:8]}"
    group = f"{prefix}-projector"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await producer.start()
    try:
        for index in range(7):
            await producer.send_and_wait(topic, f"{index}".encode(), partition=1)
        for index in range(2):
            await producer.send_and_wait(topic, f"{index}".encode(), partition=0)
    finally:
        await producer.stop()
    partitions = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit({partitions[0]: 1, partitions[1]: 3})
    finally:
        await consumer.stop()
    env = {"KAIROS_IDENTITY_CONSUMER_GROUP_PREFIX": prefix}
    kafka = f"--kafka={kafka_bootstrap_servers}"

    result = await kairos("lag", "identity", kafka, "--json", env=env)

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [
        (p["group"], p["topic"], p["partition"], p["committed"], p["end"], p["lag"])
        for p in report["partitions"]
    ] == [(group, topic, 0, 1, 2, 1), (group, topic, 1, 3, 7, 4)]
    assert report["totals"] == {"identity": 5}

    table = await kairos("lag", "identity", kafka, env=env)
    assert table.exit_code == 0, table.output
    assert f"identity  {group}  {topic}  1          3          7    4" in table.stdout
    assert "identity: total lag 5 over 1 group(s)" in table.stdout

    others = await kairos("lag", "habilitation", kafka, env=env)
    assert others.exit_code == 0, others.output
    assert group not in others.stdout
