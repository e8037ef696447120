"""The three-broker cluster for fault tests: replication 3, min.insync.replicas 2; with one
broker killed, acks=all writes still succeed and nothing written is lost.

(That a single remaining broker refuses acks=all writes is left to the fault tests: with two
of three KRaft voters gone the quorum is lost too, and clients wait rather than fail fast.)"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from kairos_devstack.kafka import KafkaCluster
from kairos_devstack.processes import free_port
from kairos_devstack.testing import read_records
from kairos_devstack.topics import create_topics

pytestmark = [pytest.mark.slow, pytest.mark.infra]


@pytest.fixture
def cluster() -> Iterator[KafkaCluster]:
    folder = Path(tempfile.mkdtemp(prefix="kairos-test-cluster-"))
    cluster = KafkaCluster.plan(folder, [(free_port(), free_port()) for _ in range(3)], heap="384m")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop(kill=True)  # throwaway data: no controlled shutdown with a broker missing
        shutil.rmtree(folder, ignore_errors=True)


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"one-key")
    finally:
        await producer.stop()


async def test_a_killed_broker_loses_nothing_and_writes_go_on(cluster: KafkaCluster) -> None:
    bootstrap = cluster.bootstrap_servers
    topic = f"test.cluster.{uuid.uuid4().hex}"
    await create_topics(bootstrap, [topic], partitions=3, replication=3)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
        assert all(len(p["replicas"]) == 3 for p in description["partitions"])
        (configs,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        (resource,) = configs.resources
        entries = {entry[0]: entry[1] for entry in resource[4]}
        assert entries["min.insync.replicas"] == "2"
    finally:
        await admin.close()

    before = [f"before {i}".encode() for i in range(50)]
    await _produce(bootstrap, topic, before)
    cluster.stop_node(2, kill=True)
    survivors = ",".join(node.bootstrap for node in cluster.nodes if node.node_id != 2)
    after = [f"after {i}".encode() for i in range(50)]
    await asyncio.wait_for(_produce(survivors, topic, after), 120)

    records = await read_records(survivors, topic, at_least=100)
    assert [r.value for r in records] == before + after  # one key: one partition, in order
