"""The bounded load run (:mod:`kairos_devstack.soak`) against a fresh `make run` stack: nothing
answered wrong under load, and once the platform settled `kairos reconcile` finds the four
services agreeing with the events. Its size comes from the environment: the short default
fits CI; `make soak` runs 10 minutes, 20 OFs and 200 people."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from kairos_cli.reconcile import reconcile_databases
from kairos_devstack.paths import state_dir
from kairos_devstack.postgres import HOST, SUPERUSER
from kairos_devstack.soak import run_soak, summary
from kairos_devstack.stack_process import StackProcess, fresh_stack
from kairos_devstack.story_clients import Endpoints, wait_for
from kairos_devstack.topics import SERVICES


def _setting(name: str, default: float) -> float:
    return float(os.environ.get(f"KAIROS_SOAK_{name}", default))


# The run lasts KAIROS_SOAK_SECONDS, plus the stack's start, the preparation and the settling:
# past the suite's 300 s per test for `make soak`.
pytestmark = [
    pytest.mark.soak, pytest.mark.slow, pytest.mark.infra,
    pytest.mark.timeout(_setting("SECONDS", 45) + 900),
]  # fmt: skip


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[StackProcess]:
    # Every worker of the soak comes from 127.0.0.1, where real people and OFs come from many
    # addresses: the per-address and global buckets of logins and adhesions are opened wide.
    for name, value in {
        "KAIROS_IDENTITY_LOGIN_RATE_PER_ADDRESS_BURST": "1000000",
        "KAIROS_IDENTITY_LOGIN_RATE_GLOBAL_BURST": "1000000",
        "KAIROS_IDENTITY_ADHESION_REQUESTS_FREE": "100000",
        "KAIROS_IDENTITY_ADHESION_REQUESTS_LOCK_AFTER": "200000",
    }.items():
        monkeypatch.setenv(name, value)
    with fresh_stack("kairos-test-soak-") as running:
        yield running


async def test_under_load_nothing_is_wrong_and_the_services_agree_afterwards(
    stack: StackProcess,
) -> None:
    endpoints = Endpoints.of_local_stack(stack.root, stack.ports)
    report = await run_soak(
        endpoints,
        seconds=_setting("SECONDS", 45),
        organisations=int(_setting("ORGANISATIONS", 4)),
        people=int(_setting("PEOPLE", 4)),
        workers=int(_setting("WORKERS", 6)),
    )
    dsns = {
        service: f"postgresql://{SUPERUSER}@{HOST}:{stack.ports.postgres}/{service}"
        for service in SERVICES
    }
    found: list[object] = []

    async def agreed() -> bool | None:
        found[:] = await reconcile_databases(dsns)
        return True if not found else None

    try:
        await wait_for(agreed, "the services to agree", timeout=180)
    finally:
        outcome = {**summary(report), "disagreements": [str(d) for d in found[:20]]}
        reports = state_dir().parent / "reports"
        reports.mkdir(parents=True, exist_ok=True)
        (reports / "soak.json").write_text(json.dumps(outcome, indent=2), encoding="utf-8")
        print("\nsoak:", json.dumps(outcome, indent=2))  # noqa: T201 - the run's report
    assert report.wrong == []
    accepted = {k: v for k, v in report.outcomes.items() if k.endswith(":accepted")}
    assert accepted.get("declare:accepted", 0) > 0
    assert accepted.get("login:accepted", 0) > 0
