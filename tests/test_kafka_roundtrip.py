"""The local Kafka is a real Kafka: what aiokafka produces there is consumed back, in order."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from kairos_devstack.pytest_plugin import TopicFactory


async def test_message_produced_with_aiokafka_is_consumed_back(
    kafka_bootstrap_servers: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic(partitions=3)
    key = uuid.uuid4().hex.encode()
    sent = [f"message {i}".encode() for i in range(20)]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        for value in sent:
            await producer.send_and_wait(topic, value, key=key, headers=[("ce_id", b"1")])
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=f"roundtrip-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: list[ConsumerRecord[bytes, bytes]] = []
    try:
        while len(received) < len(sent):
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), timeout=30)
            for records in batch.values():
                received.extend(records)
    finally:
        await consumer.stop()

    assert [record.value for record in received] == sent  # one key: one partition, in order
    assert {record.key for record in received} == {key}
    assert all(dict(record.headers)["ce_id"] == b"1" for record in received)
