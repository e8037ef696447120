"""deploy/kafka/acls.toml covers exactly what the platform uses, and every place that repeats it
says the same thing.

Static checks (nothing started; tests/security/test_kafka_sasl_acls.py applies the ACLs to a
real broker): the topics come from kairos_schemas, each service's consumer groups and the topics
they read from the services' own subscription factories (``<prefix>-<consumer>``, the prefix
``kairos-<service>`` as :class:`kairos_shared.messaging.Messaging` makes it), the replay group
from the CLI. Then the docs' table, the compose overlay (parsed, never run) and the Kubernetes
Secrets' user names are compared with the file.
"""

from __future__ import annotations

import functools
import importlib
import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from kairos_cli.dead_letters import REPLAY_GROUP
from kairos_devstack import kafka_acls
from kairos_devstack.kafka_acls import Binding, ResourceType
from kairos_devstack.topics import SERVICES
from kairos_schemas import INTEGRATOR_TOPICS, PLATFORM_TOPICS, dead_letter_topic

ROOT = Path(__file__).resolve().parents[1]
DLQS = tuple(dead_letter_topic(topic) for topic in PLATFORM_TOPICS)
ALL_TOPICS = (*PLATFORM_TOPICS, *DLQS)
OPERATOR = "User:kairos-operator"
INTEGRATOR = "acme"


@functools.cache
def consumed() -> dict[str, tuple[tuple[str, str], ...]]:
    """service -> the (topic, consumer group) of each of its subscriptions."""
    found = {}
    for service in SERVICES:
        module = importlib.import_module(f"kairos_{service}.entrypoints.consumers")
        # The factories only build handlers: no context, pool or publisher is used yet.
        dummy = SimpleNamespace()
        subscriptions = module.subscriptions(dummy, dummy, dummy)
        found[service] = tuple(
            (s.topic, f"kairos-{service}-{s.consumer.name}") for s in subscriptions
        )
    return found


@functools.cache
def bindings() -> tuple[Binding, ...]:
    return tuple(kafka_acls.bindings(kafka_acls.principals([INTEGRATOR])))


def allowed(principal: str, resource_type: ResourceType, name: str, operation: str) -> bool:
    return any(
        b.allows(resource_type, name, operation) for b in bindings() if b.principal == principal
    )


def literal_topics(principal: str, operation: str) -> set[str]:
    return {
        b.name
        for b in bindings()
        if b.principal == principal
        and b.resource_type == "topic"
        and b.pattern == "literal"
        and b.operation == operation
    }


def test_every_principal_is_expected() -> None:
    principals = {b.principal for b in bindings()}
    expected = {f"User:kairos-{service}" for service in SERVICES}
    expected |= {OPERATOR, f"User:integrator-{INTEGRATOR}"}
    assert principals == expected


def test_every_topic_named_is_a_platform_topic_and_every_platform_topic_is_named() -> None:
    literal = {b.name for b in bindings() if b.resource_type == "topic" and b.pattern == "literal"}
    assert literal <= set(ALL_TOPICS), f"unknown topics: {sorted(literal - set(ALL_TOPICS))}"
    assert literal == set(ALL_TOPICS), f"never named: {sorted(set(ALL_TOPICS) - literal)}"
    prefixed = {
        b.name for b in bindings() if b.resource_type == "topic" and b.pattern == "prefixed"
    }
    assert prefixed <= {"kairos."}, f"topic prefixes: {prefixed}"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_reads_exactly_the_topics_it_consumes(service: str) -> None:
    principal = f"User:kairos-{service}"
    topics = {topic for topic, _ in consumed()[service]}
    assert topics, f"{service} consumes nothing?"
    assert literal_topics(principal, "Read") == topics
    for topic in ALL_TOPICS:
        assert allowed(principal, "topic", topic, "Read") == (topic in topics), topic


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_writes_its_topic_and_the_dead_letters_of_what_it_consumes(
    service: str,
) -> None:
    principal = f"User:kairos-{service}"
    own = f"kairos.{service}.v1"
    assert own in PLATFORM_TOPICS
    expected = {own} | {dead_letter_topic(topic) for topic, _ in consumed()[service]}
    assert literal_topics(principal, "Write") == expected
    for topic in ALL_TOPICS:
        assert allowed(principal, "topic", topic, "Write") == (topic in expected), topic


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_uses_its_consumer_groups_and_no_other_services(service: str) -> None:
    principal = f"User:kairos-{service}"
    for _, group in consumed()[service]:
        assert allowed(principal, "group", group, "Read"), f"{principal} cannot use {group}"
    for other in SERVICES:
        for _, group in consumed()[other]:
            if other != service:
                assert not allowed(principal, "group", group, "Read"), f"{principal}: {group}"
    assert not allowed(principal, "group", REPLAY_GROUP, "Read")
    assert not allowed(principal, "group", f"integrator-{INTEGRATOR}-x", "Read")


def test_no_service_may_do_anything_else() -> None:
    for binding in bindings():
        if binding.principal.startswith("User:kairos-") and binding.principal != OPERATOR:
            assert binding.operation in {"Read", "Write", "Describe"}, binding
            assert binding.resource_type in {"topic", "group"}, binding


def test_the_integrator_only_reads_the_integrator_topics_with_its_own_groups() -> None:
    principal = f"User:integrator-{INTEGRATOR}"
    mine = [b for b in bindings() if b.principal == principal]
    assert {b.operation for b in mine} <= {"Read", "Describe"}, "an integrator writes?"
    assert literal_topics(principal, "Read") == set(INTEGRATOR_TOPICS)
    assert literal_topics(principal, "Describe") == set(INTEGRATOR_TOPICS)
    for topic in ALL_TOPICS:
        assert allowed(principal, "topic", topic, "Read") == (topic in INTEGRATOR_TOPICS), topic
        assert not allowed(principal, "topic", topic, "Write"), topic
    assert allowed(principal, "group", f"integrator-{INTEGRATOR}-erp", "Read")
    for groups in consumed().values():
        for _, group in groups:
            assert not allowed(principal, "group", group, "Read"), group
    assert not allowed(principal, "group", "integrator-other-erp", "Read")
    assert not allowed(principal, "group", f"integrator-{INTEGRATOR}x-erp", "Read")


def test_the_operator_sees_the_lag_and_replays_dead_letters() -> None:
    for groups in consumed().values():
        for topic, group in groups:
            assert allowed(OPERATOR, "group", group, "Describe"), group
            assert allowed(OPERATOR, "topic", topic, "Describe"), topic
            assert not allowed(OPERATOR, "group", group, "Read"), f"operator joins {group}"
    assert allowed(OPERATOR, "group", REPLAY_GROUP, "Read")
    for topic in PLATFORM_TOPICS:
        assert allowed(OPERATOR, "topic", dead_letter_topic(topic), "Read")
        assert allowed(OPERATOR, "topic", topic, "Write"), f"replay onto {topic}"
        assert not allowed(OPERATOR, "topic", topic, "Read"), f"the operator reads {topic}"


@pytest.mark.parametrize("name", ["Acme", "acme_erp", "-acme", "acme-", "a b", "{integrator}"])
def test_an_integrator_name_is_checked(name: str) -> None:
    with pytest.raises(ValueError, match="integrator name"):
        kafka_acls.principals([name])


def test_the_script_prints_one_kafka_acls_command_per_grant() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kairos_devstack.kafka_acls", "--print", "--integrator", "acme"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    chosen = kafka_acls.principals([INTEGRATOR])
    assert len(lines) == sum(len(p.grants) for p in chosen)
    for line, expected in zip(lines, kafka_acls.commands(chosen), strict=True):
        assert shlex.split(line) == ["kafka-acls.sh", *expected]
        assert "--add" in expected


def test_the_operators_guide_shows_the_acl_file() -> None:
    guide = (ROOT / "docs" / "operators.md").read_text(encoding="utf-8")
    assert kafka_acls.markdown_table(kafka_acls.load()) in guide, (
        "docs/operators.md's ACL table is not `python -m kairos_devstack.kafka_acls --table`"
    )


# ---- the deployment files -------------------------------------------------------------------


@functools.cache
def overlay() -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(
        (ROOT / "deploy" / "compose" / "kafka-sasl.yml").read_text(encoding="utf-8")
    )
    return loaded


def _overlay_service(name: str) -> dict[str, object]:
    services = overlay()["services"]
    assert isinstance(services, dict)
    service: dict[str, object] = services[name]
    return service


def _script_commands(script: str) -> list[list[str]]:
    lines = script.replace("\\\n", " ").splitlines()
    return [shlex.split(line) for line in lines if line.strip()]


def test_the_compose_overlay_grants_exactly_the_acl_file() -> None:
    command = _overlay_service("kafka-topics")["command"]
    assert isinstance(command, list)
    script = command[0].replace("$$", "$")
    granted = [args[1:] for args in _script_commands(script) if args[0].endswith("kafka-acls.sh")]
    expected = kafka_acls.commands(
        kafka_acls.principals(["demo"]),
        bootstrap="kafka:9092",
        command_config="/tmp/admin.properties",
    )
    assert granted == expected


def test_the_compose_overlay_creates_the_base_files_topics() -> None:
    command = _overlay_service("kafka-topics")["command"]
    assert isinstance(command, list)
    script = command[0]
    base = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    base_script = base["services"]["kafka-topics"]["command"][0]
    created = {}
    for args in _script_commands(base_script):
        if "--create" in args:
            topic = args[args.index("--topic") + 1]
            created[topic] = (
                args[args.index("--partitions") + 1],
                [a for a in args if a.startswith("retention.ms=")],
            )
    assert set(created) == set(ALL_TOPICS)
    for topic, (partitions, retention) in created.items():
        suffix = ".dlq" if topic.endswith(".dlq") else ""
        lines = [
            line
            for line in script.replace("\\\n", " ").splitlines()
            if "--create" in line and f'"$$topic{suffix}"' in line
        ]
        assert len(lines) == 1, topic
        args = shlex.split(lines[0])
        assert args[args.index("--partitions") + 1] == partitions, topic
        assert [a for a in args if a.startswith("retention.ms=")] == retention, topic
        assert "--command-config" in args, topic
    loop = next(line for line in script.splitlines() if line.startswith("for topic in"))
    assert set(loop.removeprefix("for topic in ").split(";")[0].split()) == set(PLATFORM_TOPICS)


def test_the_compose_overlay_gives_each_service_its_principal_and_users_exist() -> None:
    kafka_command = _overlay_service("kafka")["command"]
    assert isinstance(kafka_command, list)
    users = {
        part.split(",")[0].removeprefix("name=")
        for part in kafka_command[0].split("SCRAM-SHA-512=[")[1:]
    }
    principals = {p.principal.removeprefix("User:") for p in kafka_acls.principals(["demo"])}
    assert principals | {"admin"} == users
    for service in SERVICES:
        environment = _overlay_service(service)["environment"]
        assert isinstance(environment, dict)
        assert environment["KAIROS_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        assert environment["KAIROS_KAFKA_SASL_USERNAME"] == f"kairos-{service}"
        assert str(environment["KAIROS_KAFKA_SASL_PASSWORD"]).startswith("${KAFKA_")
    kafka_environment = _overlay_service("kafka")["environment"]
    assert isinstance(kafka_environment, dict)
    assert kafka_environment["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert "StandardAuthorizer" in str(kafka_environment["KAFKA_AUTHORIZER_CLASS_NAME"])


def test_the_kubernetes_secrets_name_each_service_its_principal() -> None:
    documents = yaml.safe_load_all(
        (ROOT / "deploy" / "k8s" / "secret.example.yaml").read_text(encoding="utf-8")
    )
    secrets = {doc["metadata"]["name"]: doc["stringData"] for doc in documents if doc}
    for service in SERVICES:
        data = secrets[f"kairos-{service}"]
        assert data["KAIROS_KAFKA_SASL_USERNAME"] == f"kairos-{service}"
        assert data["KAIROS_KAFKA_SASL_PASSWORD"]


def _job_script() -> str:
    documents = yaml.safe_load_all(
        (ROOT / "deploy" / "k8s" / "kafka-topics-job.yaml").read_text(encoding="utf-8")
    )
    (job,) = [doc for doc in documents if doc and doc["kind"] == "Job"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return str(container["args"][-1])


def test_every_kafka_tool_of_the_topics_job_uses_the_client_properties() -> None:
    script = _job_script()
    tools = [args for args in _script_commands(script) if args[0].startswith("/opt/kafka/bin/")]
    assert len(tools) >= 9
    for args in tools:
        assert args[args.index("--command-config") + 1] == "$props", args


PREFIX_END = "/opt/kafka/bin/"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, ["security.protocol=PLAINTEXT"]),
        (
            {
                "KAIROS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "KAIROS_KAFKA_SASL_USERNAME": "admin",
                "KAIROS_KAFKA_SASL_PASSWORD": "s3cret",
                "KAIROS_KAFKA_SSL_CA_FILE": "/etc/kairos/kafka/ca.pem",
            },
            [
                "security.protocol=SASL_SSL",
                "sasl.mechanism=SCRAM-SHA-512",
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
                'required username="admin" password="s3cret";',
                "ssl.truststore.type=PEM",
                "ssl.truststore.location=/etc/kairos/kafka/ca.pem",
            ],
        ),
    ],
    ids=["plaintext", "sasl_ssl"],
)
def test_the_topics_job_writes_the_client_properties_from_the_settings(
    environment: dict[str, str], expected: list[str], tmp_path: Path
) -> None:
    """The Job's script, up to its first Kafka tool, run by bash for real."""
    script = _job_script()
    prelude = script[: script.index(PREFIX_END)].replace("/tmp/", f"{tmp_path}/")
    subprocess.run(["bash", "-euc", prelude], env=environment, check=True)
    assert (tmp_path / "client.properties").read_text().splitlines() == expected


def test_the_topics_job_fails_on_sasl_without_credentials(tmp_path: Path) -> None:
    script = _job_script()
    prelude = script[: script.index(PREFIX_END)].replace("/tmp/", f"{tmp_path}/")
    result = subprocess.run(
        ["bash", "-euc", prelude],
        env={"KAIROS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"},
        capture_output=True,
        check=False,
    )
    assert result.returncode != 0
