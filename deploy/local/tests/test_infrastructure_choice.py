"""The infrastructure under test is chosen, not stumbled upon (``KAIROS_TEST_INFRA``): local
processes by default, containers only when asked (and a Docker engine answers), addresses from
the environment when given; anything else stops pytest with a message saying what to set.
No infrastructure is started: the choice alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kairos_devstack.pytest_plugin import TestInfrastructure, choose_infrastructure

KAFKA = "KAIROS_TEST_KAFKA_BOOTSTRAP_SERVERS"
POSTGRES = "KAIROS_TEST_POSTGRES_DSN"
ADDRESSES = {KAFKA: "kafka:9092", POSTGRES: "postgresql://postgres:secret@db:5432/postgres"}


def _choose(environ: dict[str, str], *, docker: bool = True) -> tuple[TestInfrastructure, int]:
    asked: list[int] = []

    def docker_answers() -> bool:
        asked.append(1)
        return docker

    return choose_infrastructure(environ, docker_answers), len(asked)


def test_local_processes_by_default_even_when_a_docker_engine_answers() -> None:
    chosen, docker_asked = _choose({}, docker=True)

    assert chosen == TestInfrastructure("local")
    assert docker_asked == 0, "the default never looks for Docker"


@pytest.mark.parametrize("kind", ["local", " local "])
def test_local_when_asked(kind: str) -> None:
    assert _choose({"KAIROS_TEST_INFRA": kind})[0] == TestInfrastructure("local")


def test_containers_when_asked_and_a_docker_engine_answers() -> None:
    chosen, docker_asked = _choose({"KAIROS_TEST_INFRA": "containers"}, docker=True)

    assert chosen == TestInfrastructure("containers")
    assert docker_asked == 1


def test_containers_without_a_docker_engine_is_an_error() -> None:
    with pytest.raises(pytest.UsageError, match="containers needs a Docker engine"):
        _choose({"KAIROS_TEST_INFRA": "containers"}, docker=False)


def test_env_takes_both_addresses() -> None:
    chosen, _ = _choose({"KAIROS_TEST_INFRA": "env", **ADDRESSES})

    assert chosen == TestInfrastructure("env", ADDRESSES[KAFKA], ADDRESSES[POSTGRES])
    assert "secret" not in chosen.describe(), "the header never shows a password"
    assert "kafka:9092" in chosen.describe()


def test_addresses_in_the_environment_imply_env() -> None:
    assert _choose(ADDRESSES)[0].kind == "env"


@pytest.mark.parametrize("given", [KAFKA, POSTGRES])
def test_env_with_one_address_missing_names_the_other(given: str) -> None:
    missing = POSTGRES if given == KAFKA else KAFKA

    with pytest.raises(pytest.UsageError, match=f"set {missing}"):
        _choose({given: ADDRESSES[given]})


@pytest.mark.parametrize("kind", ["local", "containers"])
def test_addresses_contradicting_the_choice_are_an_error(kind: str) -> None:
    with pytest.raises(pytest.UsageError, match=f"KAIROS_TEST_INFRA={kind} but {KAFKA}"):
        _choose({"KAIROS_TEST_INFRA": kind, KAFKA: ADDRESSES[KAFKA]})


@pytest.mark.parametrize("kind", ["docker", "LOCAL", "testcontainers"])
def test_an_unknown_choice_is_an_error_listing_the_valid_ones(kind: str) -> None:
    with pytest.raises(pytest.UsageError, match=r"choose local .* containers .* or env"):
        _choose({"KAIROS_TEST_INFRA": kind})


def test_pytest_prints_the_choice_and_stops_on_a_wrong_one(tmp_path: Path) -> None:
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    command = [sys.executable, "-m", "pytest", "-p", "kairos_devstack.pytest_plugin",
               "-p", "no:cacheprovider", "-q", str(tmp_path)]  # fmt: skip
    clean = {name: value for name, value in os.environ.items()
             if not name.startswith("KAIROS_TEST_")}  # fmt: skip

    chosen = subprocess.run(
        [*command[:-2], "-v", str(tmp_path)], cwd=tmp_path, env=clean,
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    assert "infrastructure (KAIROS_TEST_INFRA): local" in chosen.stdout

    refused = subprocess.run(
        command, cwd=tmp_path, env={**clean, "KAIROS_TEST_INFRA": "docker"},
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR
    assert "KAIROS_TEST_INFRA='docker' is not an infrastructure" in refused.stderr
