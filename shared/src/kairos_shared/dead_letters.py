"""Dead letters: a message that keeps failing is parked on ``<topic>.dlq`` and can be replayed.

The dead letter is the original record (same key, value and headers) plus ``kairos_dlq_*``
headers saying where it came from and why it failed. Replaying puts it back on its original
topic without those headers: the consumer that failed applies it (its inbox never recorded it),
the others recognise its event id and skip it.

Operators: ``python -m kairos_shared.dead_letters list kairos.identity.v1`` prints each dead
letter as a JSON line; ``… replay kairos.identity.v1`` puts them back (each once).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from kairos_shared.kafka import kafka_client_options
from kairos_shared.kafka_settings import KafkaSecuritySettings
from kairos_shared.logging import redact_text
from kairos_shared.metrics import ServiceMetrics

PREFIX = "kairos_dlq_"
ORIGINAL_TOPIC = f"{PREFIX}topic"
ORIGINAL_PARTITION = f"{PREFIX}partition"
ORIGINAL_OFFSET = f"{PREFIX}offset"
CONSUMER = f"{PREFIX}consumer"
ERROR = f"{PREFIX}error"
ATTEMPTS = f"{PREFIX}attempts"
FAILED_AT = f"{PREFIX}failed_at"
_MAX_ERROR_LENGTH = 2000


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


def without_dead_letter_headers(
    headers: Sequence[tuple[str, bytes]],
) -> list[tuple[str, bytes]]:
    return [(name, value) for name, value in headers if not name.startswith(PREFIX)]


class DeadLetterPublisher:
    """Sends failed records to their topic's dead-letter topic, and waits for Kafka's ack."""

    def __init__(
        self, producer: AIOKafkaProducer, *, metrics: ServiceMetrics | None = None
    ) -> None:
        self.producer = producer
        self.metrics = metrics

    async def publish(
        self, record: ConsumerRecord[bytes, bytes], *, consumer: str, error: str, attempts: int
    ) -> None:
        headers = without_dead_letter_headers(list(record.headers or ()))
        headers += [
            (ORIGINAL_TOPIC, record.topic.encode()),
            (ORIGINAL_PARTITION, str(record.partition).encode()),
            (ORIGINAL_OFFSET, str(record.offset).encode()),
            (CONSUMER, consumer.encode()),
            (ERROR, redact_text(error)[:_MAX_ERROR_LENGTH].encode()),
            (ATTEMPTS, str(attempts).encode()),
            (FAILED_AT, datetime.now(UTC).isoformat().encode()),
        ]
        await self.producer.send_and_wait(
            dead_letter_topic(record.topic), value=record.value, key=record.key, headers=headers
        )
        if self.metrics is not None:
            self.metrics.dead_letters.labels(record.topic).inc()


@dataclass(frozen=True)
class DeadLetter:
    """A dead letter as an operator sees it."""

    dlq_offset: int
    original_topic: str
    original_partition: int
    original_offset: int
    consumer: str
    error: str
    attempts: int
    failed_at: str
    event_id: str | None
    event_type: str | None

    @classmethod
    def from_record(cls, record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
        headers = {name: value.decode(errors="replace") for name, value in record.headers or ()}
        return cls(
            dlq_offset=record.offset,
            original_topic=headers.get(ORIGINAL_TOPIC, ""),
            original_partition=int(headers.get(ORIGINAL_PARTITION, "-1")),
            original_offset=int(headers.get(ORIGINAL_OFFSET, "-1")),
            consumer=headers.get(CONSUMER, ""),
            error=headers.get(ERROR, ""),
            attempts=int(headers.get(ATTEMPTS, "0")),
            failed_at=headers.get(FAILED_AT, ""),
            event_id=headers.get("ce_id"),
            event_type=headers.get("ce_type"),
        )


async def _read_all(consumer: AIOKafkaConsumer, idle_timeout: float) -> list[Any]:
    records: list[Any] = []
    while True:
        batch = await consumer.getmany(timeout_ms=int(idle_timeout * 1000))
        if not batch:
            return records
        for partition_records in batch.values():
            records.extend(partition_records)


async def list_dead_letters(
    bootstrap_servers: str,
    dlq_topic: str,
    *,
    idle_timeout: float = 1.0,
    security: KafkaSecuritySettings | None = None,
) -> list[DeadLetter]:
    """Every dead letter still on ``dlq_topic``, oldest first (reads, commits nothing)."""
    # No group: every partition is assigned and, with nothing committed, read from the start.
    consumer = AIOKafkaConsumer(
        dlq_topic,
        bootstrap_servers=bootstrap_servers.split(","),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **kafka_client_options(security),
    )
    await consumer.start()
    try:
        records = await _read_all(consumer, idle_timeout)
    finally:
        await consumer.stop()
    return [DeadLetter.from_record(record) for record in sorted(records, key=lambda r: r.offset)]


async def replay_dead_letters(
    bootstrap_servers: str,
    dlq_topic: str,
    *,
    group_id: str = "kairos-dlq-replay",
    idle_timeout: float = 2.0,
    security: KafkaSecuritySettings | None = None,
) -> int:
    """Put every dead letter not replayed yet back on its original topic; returns how many.

    Progress is the ``group_id`` consumer group's committed offset on the dead-letter topic, so a
    replay interrupted half-way resumes where it stopped, and a letter is replayed once.
    """
    consumer = AIOKafkaConsumer(
        dlq_topic,
        bootstrap_servers=bootstrap_servers.split(","),
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **kafka_client_options(security),
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers.split(","),
        enable_idempotence=True,
        acks="all",
        **kafka_client_options(security),
    )
    await asyncio.gather(consumer.start(), producer.start())
    replayed = 0
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=int(idle_timeout * 1000))
            if not batch:
                return replayed
            for partition, records in batch.items():
                for record in records:
                    headers = dict(record.headers or ())
                    original = headers[ORIGINAL_TOPIC].decode()
                    await producer.send_and_wait(
                        original,
                        value=record.value,
                        key=record.key,
                        headers=without_dead_letter_headers(list(record.headers or ())),
                    )
                    await consumer.commit({partition: record.offset + 1})
                    replayed += 1
    finally:
        await asyncio.gather(consumer.stop(), producer.stop())


def main(argv: list[str] | None = None) -> int:
    """``python -m kairos_shared.dead_letters list|replay TOPIC``: the operator's commands."""
    parser = argparse.ArgumentParser(prog="python -m kairos_shared.dead_letters")
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("topic", help="a dead-letter topic (<topic>.dlq) or its original topic")
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAIROS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
    )
    args = parser.parse_args(argv)
    security = KafkaSecuritySettings()  # KAIROS_KAFKA_SECURITY_PROTOCOL … as the services
    topic = args.topic if args.topic.endswith(".dlq") else dead_letter_topic(args.topic)
    if args.command == "list":
        letters = asyncio.run(list_dead_letters(args.bootstrap_servers, topic, security=security))
        for letter in letters:
            print(json.dumps(dataclasses.asdict(letter), ensure_ascii=False))  # noqa: T201 - CLI
        return 0
    replayed = asyncio.run(replay_dead_letters(args.bootstrap_servers, topic, security=security))
    print(f"replayed {replayed} dead letter(s) from {topic}")  # noqa: T201 - CLI output
    return 0


if __name__ == "__main__":
    sys.exit(main())
