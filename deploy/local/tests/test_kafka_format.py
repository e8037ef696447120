"""A KRaft cluster id is 22 random URL-safe base64 characters: one in 64 starts with "-", which
`kafka-storage format` must not read as an option (found when a test run drew one)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from kairos_devstack.kafka import KafkaCluster
from kairos_devstack.processes import free_port

pytestmark = pytest.mark.infra


def test_a_cluster_id_starting_with_a_dash_formats_the_storage() -> None:
    folder = Path(tempfile.mkdtemp(prefix="kairos-test-format-"))
    try:
        cluster = KafkaCluster.plan(folder, [(free_port(), free_port())])
        node = cluster.nodes[0]
        (node.data_dir.parent / "cluster.id").parent.mkdir(parents=True, exist_ok=True)
        (node.data_dir.parent / "cluster.id").write_text("-Zr3GbWdQYuLRkb8yqf-Pw")
        cluster.prepare()  # writes the configuration, formats the storage, starts nothing
        meta = (node.data_dir / "log" / "meta.properties").read_text()
        assert "cluster.id=-Zr3GbWdQYuLRkb8yqf-Pw" in meta
    finally:
        shutil.rmtree(folder, ignore_errors=True)
