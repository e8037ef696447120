"""docker-compose.yml: every piece of the container stack is there and wired as the services expect.

Static checks only (no Docker engine needed): the file is parsed, never run.
"""

from __future__ import annotations

import functools
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
APP_PORTS = {"identity": 8001, "habilitation": 8002, "declaration": 8003, "notification": 8004}
INFRA = ("kafka", "kafka-topics", "postgres", "mailpit")
ONE_SHOT = {"kafka-topics"}  # jobs that run to completion: no healthcheck, never restarted
TOPICS = [f"kairos.{name}.v1{suffix}" for name in APP_PORTS for suffix in ("", ".dlq")]


@functools.cache
def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return compose


def _service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = _compose()["services"][name]
    return service


_SUBSTITUTION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*):-(?P<default>[^}]*)\}")


def _env(name: str) -> dict[str, str]:
    """The service's environment as compose gives it when .env sets nothing (`${VAR:-x}` is x)."""
    env = _service(name).get("environment", {})
    assert isinstance(env, dict), f"{name}: write environment as a mapping"
    return {key: _SUBSTITUTION.sub(r"\g<default>", str(value)) for key, value in env.items()}


def _depends_on(name: str) -> dict[str, str]:
    deps = _service(name).get("depends_on", {})
    assert isinstance(deps, dict), f"{name}: write depends_on as a mapping with conditions"
    return {dep: spec.get("condition", "service_started") for dep, spec in deps.items()}


def _mounts(name: str) -> dict[str, str]:
    """target in the container -> source (named volume or host path)."""
    return {dest: src for src, dest, *_ in (v.split(":") for v in _service(name)["volumes"])}


def test_every_service_is_defined() -> None:
    missing = (set(INFRA) | set(APP_PORTS)) - set(_compose()["services"])
    assert not missing, f"docker-compose.yml lacks the services {sorted(missing)}"


def test_kafka_image_is_the_version_the_local_stack_runs() -> None:
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text(encoding="utf-8")
    found = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", pom)
    assert found, "deploy/kafka/pom.xml has no <kafka.version> property"
    expected = f"apache/kafka:{found.group(1)}"
    for name in ("kafka", "kafka-topics"):
        image = _service(name)["image"]
        assert image == expected, f"{name} runs {image}, deploy/kafka/pom.xml pins {expected}"


def test_kafka_is_a_kraft_node_without_topic_auto_creation() -> None:
    env = _env("kafka")
    roles = set(env.get("KAFKA_PROCESS_ROLES", "").split(","))
    assert roles == {"broker", "controller"}, f"kafka: process roles are {roles}"
    assert env.get("KAFKA_CONTROLLER_QUORUM_VOTERS"), "kafka: no KRaft controller quorum voters"
    assert "kafka:9092" in env.get("KAFKA_ADVERTISED_LISTENERS", ""), (
        "kafka does not advertise kafka:9092, the address the services are given"
    )
    assert env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") == "false", (
        "kafka must not auto-create topics: kafka-topics creates them with explicit settings"
    )


@pytest.mark.parametrize("name", [*INFRA, *APP_PORTS])
def test_service_has_a_healthcheck(name: str) -> None:
    if name in ONE_SHOT:
        assert _service(name).get("restart") == "no", f"{name} is a one-shot job: restart 'no'"
        return
    healthcheck = _service(name).get("healthcheck", {})
    assert healthcheck.get("test"), f"{name} has no healthcheck: nothing can wait for it"
    assert not healthcheck.get("disable"), f"{name} has its healthcheck disabled"


def test_kafka_topics_waits_for_a_healthy_kafka() -> None:
    condition = _depends_on("kafka-topics").get("kafka")
    assert condition == "service_healthy", f"kafka-topics waits for kafka {condition!r}"


@pytest.mark.parametrize("topic", TOPICS)
def test_kafka_topics_creates_topic_with_explicit_settings(topic: str) -> None:
    command = _service("kafka-topics")["command"]
    script = "\n".join(command) if isinstance(command, list) else command
    invocations = [shlex.split(line) for line in script.replace("\\\n", " ").splitlines()]
    creations = [
        args
        for args in invocations
        if "--create" in args and "--topic" in args and args[args.index("--topic") + 1] == topic
    ]
    assert len(creations) == 1, f"kafka-topics creates {topic} {len(creations)} times, not once"
    args = creations[0]
    assert "--partitions" in args, f"{topic} is created without an explicit --partitions"
    assert int(args[args.index("--partitions") + 1]) >= 1, f"{topic}: bad partition count"
    assert any(arg.startswith("retention.ms=") for arg in args), f"{topic}: no retention.ms"


@pytest.mark.parametrize(("name", "port"), APP_PORTS.items())
def test_app_service_is_wired(name: str, port: int) -> None:
    ports = [str(p) for p in _service(name).get("ports", [])]
    assert f"{port}:{port}" in ports, f"{name}: port {port} is not published as {port} ({ports})"
    depends_on = _depends_on(name)
    assert depends_on.get("postgres") == "service_healthy", f"{name}: not after a healthy postgres"
    assert depends_on.get("kafka-topics") == "service_completed_successfully", (
        f"{name} may start before its topics exist"
    )
    env = _env(name)
    assert env.get("KAIROS_KAFKA_BOOTSTRAP_SERVERS") == "kafka:9092", f"{name}: Kafka address"
    url = env.get(f"KAIROS_{name.upper()}_DATABASE_URL", "")
    assert url.endswith(f"@postgres:5432/{name}"), f"{name}: database URL is {url!r}"
    http_port = env.get(f"KAIROS_{name.upper()}_HTTP_PORT")
    assert http_port == str(port), f"{name}: HTTP port is {http_port}, not {port}"
    # Pinned in `environment:` (which wins over env_file), so a .env cannot move the listener.
    http_host = env.get(f"KAIROS_{name.upper()}_HTTP_HOST")
    assert http_host == "0.0.0.0", f"{name}: HTTP host is {http_host}: unreachable from outside"
    build = _service(name).get("build", {})
    assert build.get("context") == ".", f"{name}: build context is not the repository root"
    dockerfile = build.get("dockerfile")
    assert dockerfile == f"services/{name}/Dockerfile", f"{name} builds from {dockerfile}"
    assert (ROOT / dockerfile).is_file(), f"{dockerfile} does not exist"
    probe = " ".join(_service(name)["healthcheck"]["test"])
    assert f"127.0.0.1:{port}/health/ready" in probe, f"{name}: healthcheck is {probe!r}"


def test_notification_sends_mail_to_mailpit() -> None:
    assert _depends_on("notification").get("mailpit") == "service_healthy", (
        "notification does not wait for a healthy mailpit"
    )
    env = _env("notification")
    assert env.get("KAIROS_NOTIFICATION_SMTP_HOST") == "mailpit", "notification: SMTP host"
    assert env.get("KAIROS_NOTIFICATION_SMTP_PORT") == "1025", "notification: SMTP port"


def test_postgres_init_script_creates_one_database_per_service() -> None:
    mounts = _mounts("postgres")
    scripts = [src for dest, src in mounts.items() if dest.startswith("/docker-entrypoint-initdb")]
    assert scripts, "postgres mounts no init script into /docker-entrypoint-initdb.d"
    sql = "\n".join((ROOT / src).read_text(encoding="utf-8") for src in scripts)
    created = set(re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)", sql, flags=re.IGNORECASE))
    missing = set(APP_PORTS) - created
    assert not missing, f"the postgres init script does not create the databases {missing}"


@pytest.mark.parametrize(
    ("name", "path"),
    # postgres:18 keeps PGDATA in /var/lib/postgresql/18/docker: its volume is one level up.
    [("kafka", "/var/lib/kafka/data"), ("postgres", "/var/lib/postgresql")],
)
def test_data_lives_in_a_declared_named_volume(name: str, path: str) -> None:
    source = _mounts(name).get(path)
    assert source in _compose().get("volumes", {}), f"{name}: {path} is not on a named volume"


@pytest.mark.parametrize("name", APP_PORTS)
def test_app_service_reads_the_optional_dot_env(name: str) -> None:
    """.env (from .env.example) reaches every service; a missing .env is no error."""
    env_files = _service(name).get("env_file", [])
    entries = [{"path": e} if isinstance(e, str) else e for e in env_files]
    dot_env = [e for e in entries if e.get("path") == ".env"]
    assert dot_env, f"{name}: .env is not passed to the service (env_file)"
    assert dot_env[0].get("required") is False, f"{name}: compose fails without a .env file"


def _strings(node: object) -> list[str]:
    """Every string value of the parsed file (compose substitutes in values, not comments)."""
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [node] if isinstance(node, str) else []


def test_compose_variables_default_to_what_the_stack_needs() -> None:
    """Every ${VAR} has a default (`${VAR:-x}`): the stack runs without a .env file."""
    values = "\n".join(_strings(_compose()))
    without_default = sorted(set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", values)))
    assert not without_default, f"docker-compose.yml uses {without_default} without a default"
