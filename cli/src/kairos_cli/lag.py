"""``kairos lag [SERVICE]``: how far each of the platform's consumer groups is behind, per
topic and partition (the partition's end offset minus the group's committed offset).

A service's groups are ``<prefix>-<consumer>``, the prefix being its
``KAIROS_<SERVICE>_CONSUMER_GROUP_PREFIX`` or ``kairos-<service>``
(see :class:`kairos_shared.messaging.Messaging`).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaConsumer, TopicPartition
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
    service_name,
    table,
)
from kairos_shared.kafka import kafka_client_options
from kairos_shared.kafka_settings import KafkaSecuritySettings


@dataclass(frozen=True)
class PartitionLag:
    service: str
    group: str
    topic: str
    partition: int
    committed: int
    end: int

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0) if self.committed >= 0 else self.end

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "lag": self.lag}


def group_prefix(service: str) -> str:
    """The prefix of ``service``'s consumer groups, as the service reads its settings."""
    from kairos_cli.configuration import load_settings  # noqa: PLC0415 - settings only when used

    configured = getattr(load_settings(service), "consumer_group_prefix", None)
    return str(configured or f"kairos-{service}")


async def _committed(
    bootstrap_servers: str, prefixes: dict[str, str], security: KafkaSecuritySettings | None
) -> list[tuple[str, str, TopicPartition, int]]:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers.split(","), **kafka_client_options(security)
    )
    await admin.start()
    try:
        groups = sorted({str(group[0]) for group in await admin.list_consumer_groups()})
        found = []
        for service, prefix in prefixes.items():
            for group in (g for g in groups if g.startswith(f"{prefix}-")):
                offsets = await group_offsets(admin, group)
                found += [(service, group, tp, meta.offset) for tp, meta in offsets.items()]
    finally:
        await admin.close()
    return found


async def _end_offsets(
    bootstrap_servers: str, partitions: list[TopicPartition], security: KafkaSecuritySettings | None
) -> dict[TopicPartition, int]:
    if not partitions:
        return {}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers.split(","),
        group_id=None,
        **kafka_client_options(security),
    )
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return ends


async def consumer_lag(
    bootstrap_servers: str, services: list[str], security: KafkaSecuritySettings | None = None
) -> list[PartitionLag]:
    """The lag of every committed partition of the services' consumer groups."""
    prefixes = {service: group_prefix(service) for service in services}
    try:
        async with asyncio.timeout(KAFKA_TIMEOUT_SECONDS):
            committed = await _committed(bootstrap_servers, prefixes, security)
            partitions = sorted({c[2] for c in committed})
            ends = await _end_offsets(bootstrap_servers, partitions, security)
    except (KafkaError, TimeoutError, OSError) as error:
        fail(f"Kafka at {bootstrap_servers} does not answer: {type(error).__name__}: {error}")
    lags = [
        PartitionLag(service, group, tp.topic, tp.partition, offset, ends.get(tp, 0))
        for service, group, tp, offset in committed
    ]
    return sorted(lags, key=lambda x: (SERVICES.index(x.service), x.group, x.topic, x.partition))


@guarded
def lag(
    service: Annotated[
        str | None, typer.Argument(help=f"One of {', '.join(SERVICES)} (default: all).")
    ] = None,
    kafka: KafkaOption = DEFAULT_KAFKA,
    as_json: JsonOption = False,
) -> None:
    """Consumer lag per group, topic and partition, and the total per service."""
    services = [service_name(service)] if service else list(SERVICES)
    lags = run(consumer_lag(kafka, services, kafka_security()))
    totals = {name: sum(x.lag for x in lags if x.service == name) for name in services}
    if as_json:
        echo_json({"partitions": [x.as_dict() for x in lags], "totals": totals})
        return
    if lags:
        rows = [
            [x.service, x.group, x.topic, str(x.partition), str(x.committed), str(x.end),
             str(x.lag)]
            for x in lags
        ]  # fmt: skip
        header = ["service", "group", "topic", "partition", "committed", "end", "lag"]
        typer.echo(table(rows, header))
        typer.echo("")
    for name, total in totals.items():
        groups = len({x.group for x in lags if x.service == name})
        note = "" if groups else f" (no consumer group {group_prefix(name)}-* has committed)"
        typer.echo(f"{name}: total lag {total} over {groups} group(s){note}")
