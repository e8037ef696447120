"""Fault injection (issue 9): the platform as real processes, one fault at a time.

One platform (one Kafka broker, PostgreSQL, the SMTP sink, the four services, a tenant with a
trainer allowed to declare) serves the whole module of faults that leave it as they found it;
each test first restarts whatever a failed predecessor left dead. Every test records a row —
fault, events in, events out, duplicates, lost, recovery time — written to
``.local/reports/faults.json`` as it finishes and printed as a table at the end of the session.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from kairos_devstack.faults import (
    FaultRow,
    World,
    format_table,
    set_up_tenant,
)
from kairos_devstack.process_platform import ProcessPlatform, reports_dir

_ROWS: list[dict[str, Any]] = []


def _write_report() -> Path:
    path = reports_dir() / "faults.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_ROWS, indent=2, ensure_ascii=False) + "\n")
    return path


@pytest.fixture
def fault_row(request: pytest.FixtureRequest) -> Iterator[FaultRow]:
    """The test's report row; a test that did not set ``outcome`` failed on the way."""
    row = FaultRow(request.node.name.removeprefix("test_"))
    yield row
    if row.outcome == "unfinished":
        row.outcome = "FAILED"
    _ROWS.append(row.as_json())
    _write_report()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def fault_platform() -> AsyncIterator[ProcessPlatform]:
    platform = ProcessPlatform.plan(Path(tempfile.mkdtemp(prefix="kairos-faults-")))
    try:
        await platform.start()
        yield platform
    finally:
        platform.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def shared_world(fault_platform: ProcessPlatform) -> AsyncIterator[World]:
    async with fault_platform.clients() as http:
        yield await set_up_tenant(fault_platform, http)


@pytest_asyncio.fixture(loop_scope="session")
async def world(shared_world: World) -> World:
    """The shared platform, everything running and ready."""
    await shared_world.platform.ensure_running()
    return shared_world


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _ROWS:
        terminalreporter.section("fault injection report")
        terminalreporter.write_line(format_table(_ROWS))
        terminalreporter.write_line(f"(written to {_write_report()})")
