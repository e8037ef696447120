"""Infrastructure for benchmarks: the addresses in the environment, else a local Kafka and
PostgreSQL started for the run (the same launchers as ``make run``) and stopped after it."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kairos_devstack.kafka import KafkaCluster
from kairos_devstack.postgres import EmbeddedPostgres
from kairos_devstack.processes import free_port

RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Infrastructure:
    kafka: str
    postgres_admin_dsn: str


@contextmanager
def infrastructure() -> Iterator[Infrastructure]:
    kafka = os.environ.get("KAIROS_TEST_KAFKA_BOOTSTRAP_SERVERS")
    postgres = os.environ.get("KAIROS_TEST_POSTGRES_DSN")
    folder = Path(tempfile.mkdtemp(prefix="kairos-bench-"))
    folder.chmod(0o755)
    cluster = None if kafka else KafkaCluster.plan(folder / "kafka", [(free_port(), free_port())])
    # Durable settings (fsync on): benchmarks measure what production would pay for a commit.
    server = None if postgres else EmbeddedPostgres(folder / "postgres", free_port())
    try:
        if cluster is not None:
            cluster.start()
            kafka = cluster.bootstrap_servers
        if server is not None:
            server.start()
            postgres = server.dsn()
        assert kafka is not None
        assert postgres is not None
        yield Infrastructure(kafka, postgres)
    finally:
        if cluster is not None:
            cluster.stop()
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of ``values``, by linear interpolation."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[max(0, int(q * 10) - 1)]


def write_results(name: str, results: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "at": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "results": results,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def headline(
    measure: str, unit: str, baseline: float, kairos: float, goal: str | None = None
) -> dict[str, Any]:
    """One line of ``make bench``'s summary: ``kairos / baseline``, and whether the goal
    (``"<= 3"``, ``">= 0.33"``: a bound on that ratio) holds."""
    ratio = kairos / baseline if baseline else float("nan")
    met = None
    if goal is not None:
        sign, bound = goal.split()
        met = ratio <= float(bound) if sign == "<=" else ratio >= float(bound)
    return {
        "measure": measure, "unit": unit, "baseline": baseline, "kairos": kairos,
        "ratio": ratio, "goal": goal, "met": met,
    }  # fmt: skip
