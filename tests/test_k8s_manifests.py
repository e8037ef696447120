"""deploy/k8s: the kustomize base runs each service as the service itself expects.

Static checks (no cluster needed): every YAML file under deploy/k8s is parsed, never applied.
What the manifests must agree with is read from the code, not repeated here: the services' list
(kairos_devstack.topics), their settings classes (valid variable names, default ports), the
routes their apps serve (probes), the Dockerfiles (user, EXPOSE), the topics (kairos_schemas)
and docker-compose.yml (partitions and retention of each topic).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kairos_devstack.settings_names import SERVICE_SETTINGS, service_env_names
from kairos_devstack.topics import SERVICES
from kairos_schemas import PLATFORM_TOPICS, dead_letter_topic
from kairos_shared import messaging, runtime

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZATION = "kustomization.yaml"
SECRET_EXAMPLE = "secret.example.yaml"
NAMESPACE = "kairos"
TOPICS = [*PLATFORM_TOPICS, *(dead_letter_topic(topic) for topic in PLATFORM_TOPICS)]
REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2
#: The longest a service's shutdown waits by design after SIGTERM: a Kafka connection attempt
#: under way is let finish, then the database pool is given its time to close.
SHUTDOWN_BUDGET_SECONDS = messaging._FINISH_CONNECTING_SECONDS + runtime._POOL_CLOSE_SECONDS

Manifest = dict[str, Any]


def _load(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


@functools.cache
def _files() -> dict[str, list[Manifest]]:
    """Every YAML file under deploy/k8s (relative path -> its documents)."""
    paths = [*K8S.rglob("*.yaml"), *K8S.rglob("*.yml")]
    return {str(path.relative_to(K8S)): _load(path) for path in sorted(paths)}


@functools.cache
def _kustomization() -> Manifest:
    (document,) = _files()[KUSTOMIZATION]
    return document


@functools.cache
def _resources() -> tuple[Manifest, ...]:
    """The objects the kustomization applies."""
    return tuple(doc for path in _kustomization()["resources"] for doc in _files()[path])


def _objects(
    kind: str, documents: Iterator[Manifest] | tuple[Manifest, ...]
) -> dict[str, Manifest]:
    return {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == kind}


def _secret_examples() -> dict[str, Manifest]:
    return _objects("Secret", iter(_files()[SECRET_EXAMPLE]))


def _deployment(service: str) -> Manifest:
    deployments = _objects("Deployment", _resources())
    name = f"kairos-{service}"
    assert name in deployments, f"no Deployment {name} among the kustomization's resources"
    return deployments[name]


def _pod(workload: Manifest) -> Manifest:
    pod: Manifest = workload["spec"]["template"]["spec"]
    return pod


def _container(service: str) -> Manifest:
    containers = _pod(_deployment(service))["containers"]
    assert len(containers) == 1, f"{service}: expected one container, found {len(containers)}"
    container: Manifest = containers[0]
    return container


def _default_port(service: str) -> int:
    settings = SERVICE_SETTINGS[service][0]
    port = settings.model_fields["http_port"].default
    assert isinstance(port, int), f"{settings.__name__}.http_port has no default port"
    return port


def _dockerfile_runtime(service: str) -> str:
    text = (ROOT / "services" / service / "Dockerfile").read_text(encoding="utf-8")
    return text[text.rindex("\nFROM ") :]


def _dockerfile_user(service: str) -> int:
    users = re.findall(r"(?m)^USER\s+(\d+)", _dockerfile_runtime(service))
    assert users, f"{service}: the Dockerfile's runtime stage sets no numeric USER"
    return int(users[-1])


def _dockerfile_exposed(service: str) -> set[int]:
    return {int(port) for port in re.findall(r"(?m)^EXPOSE\s+(\d+)", _dockerfile_runtime(service))}


def _quantity(value: str | int) -> float:
    """A Kubernetes quantity as a number (cores, or bytes)."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    text = str(value)
    for unit, factor in units.items():
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


# ---- the kustomization ---------------------------------------------------------------------


def test_every_document_is_a_named_kubernetes_object() -> None:
    for path, documents in _files().items():
        assert documents, f"{path} is empty"
        for document in documents:
            assert {"apiVersion", "kind"} <= set(document), f"{path}: a document is no object"
            if path != KUSTOMIZATION:
                assert document.get("metadata", {}).get("name"), f"{path}: an object has no name"


def test_kustomization_lists_every_manifest_and_not_the_secret_example() -> None:
    resources = _kustomization()["resources"]
    assert len(resources) == len(set(resources)), f"resources listed twice: {resources}"
    assert SECRET_EXAMPLE in _files(), f"deploy/k8s/{SECRET_EXAMPLE} is missing"
    assert SECRET_EXAMPLE not in resources, f"{SECRET_EXAMPLE} must not be applied"
    expected = set(_files()) - {KUSTOMIZATION, SECRET_EXAMPLE}
    assert set(resources) == expected, (
        f"kustomization resources {sorted(resources)}, files {sorted(expected)}"
    )


def test_everything_goes_to_the_kairos_namespace() -> None:
    assert _kustomization().get("namespace") == NAMESPACE
    assert NAMESPACE in _objects("Namespace", _resources()), "no Namespace object kairos"
    for document in _resources():
        namespace = document["metadata"].get("namespace", NAMESPACE)
        assert namespace == NAMESPACE, f"{document['metadata']['name']} in namespace {namespace}"


def test_no_secret_is_applied_from_the_repository() -> None:
    secrets = sorted(_objects("Secret", _resources()))
    assert not secrets, f"the kustomization applies Secrets {secrets}: credentials in git"


def test_the_secret_example_says_how_to_create_the_real_secrets() -> None:
    text = (K8S / SECRET_EXAMPLE).read_text(encoding="utf-8")
    assert "kubectl -n kairos create secret generic" in text
    for service in SERVICES:
        assert f"kairos-{service}" in _secret_examples(), f"no example Secret kairos-{service}"


def test_every_image_is_kustomizable() -> None:
    images = {image["name"] for image in _kustomization().get("images", [])}
    assert images == {f"kairos-{service}" for service in SERVICES}, f"images: {images}"


# ---- each service --------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_runs_several_replicas_of_the_service_image(service: str) -> None:
    deployment = _deployment(service)
    assert deployment["spec"].get("replicas", 1) >= 2, f"{service}: fewer than 2 replicas"
    image = _container(service)["image"]
    repository, _, tag = image.rpartition(":")
    assert repository == f"kairos-{service}", f"{service}: image {image}, not kairos-{service}"
    assert tag, f"{service}: image {image} has no tag"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items(), f"{service}: selector does not match its pods"
    assert labels.get("app.kubernetes.io/part-of") == "kairos", (
        f"{service}: pods lack the part-of label the NetworkPolicy selects"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_port_is_the_service_default_and_the_image_exposed_one(service: str) -> None:
    port = _default_port(service)
    assert port in _dockerfile_exposed(service), f"{service}: the Dockerfile does not EXPOSE {port}"
    container = _container(service)
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    assert ports == {"http": port}, f"{service}: container ports {ports}, expected http: {port}"
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    http_port = env.get(f"KAIROS_{service.upper()}_HTTP_PORT", str(port))
    assert http_port == str(port), (
        f"{service}: listens on {http_port}, the container port is {port}"
    )
    assert env.get(f"KAIROS_{service.upper()}_HTTP_HOST", "0.0.0.0") == "0.0.0.0", (
        f"{service}: does not listen on every interface of its pod"
    )
    services = _objects("Service", _resources())
    assert f"kairos-{service}" in services, f"no Service kairos-{service}"
    spec = services[f"kairos-{service}"]["spec"]
    assert spec["selector"].items() <= _pod_labels(service).items(), f"{service}: Service selector"
    (service_port,) = spec["ports"]
    assert service_port["port"] == port, f"{service}: the Service listens on {service_port['port']}"
    assert service_port["targetPort"] in {"http", port}, f"{service}: Service targetPort"


def _pod_labels(service: str) -> dict[str, str]:
    labels: dict[str, str] = _deployment(service)["spec"]["template"]["metadata"]["labels"]
    return labels


def _served(service: str, path: str) -> int:
    """The status the service's app answers to GET `path` without starting (no database, no
    Kafka: a readiness check fails with 503, but the route is there)."""
    bootstrap = importlib.import_module(f"kairos_{service}.bootstrap")
    app = bootstrap.create_app()

    async def get() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://pod") as client:
            return (await client.get(path)).status_code

    return asyncio.run(get())


@pytest.mark.parametrize("service", SERVICES)
def test_probes_ask_the_paths_the_service_serves(service: str) -> None:
    container = _container(service)
    expected = {
        "readinessProbe": "/health/ready",
        "livenessProbe": "/health/live",
        "startupProbe": "/health/live",
    }
    for probe, path in expected.items():
        assert probe in container, f"{service}: no {probe}"
        http_get = container[probe].get("httpGet", {})
        assert http_get.get("path") == path, f"{service}: {probe} asks {http_get.get('path')}"
        assert http_get.get("port") in {"http", _default_port(service)}, f"{service}: {probe} port"
    assert _served(service, "/health/live") == 200, f"{service}: /health/live does not answer 200"
    assert _served(service, "/health/ready") in {200, 503}, f"{service}: no /health/ready route"
    assert _served(service, "/health/nowhere") == 404, "a path the app does not serve is a 404"
    readiness_timeout = SERVICE_SETTINGS[service][0].model_fields["readiness_timeout_seconds"]
    assert container["readinessProbe"].get("timeoutSeconds", 1) > readiness_timeout.default, (
        f"{service}: the readiness probe gives up before the service's own checks time out"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_shutdown_has_time_to_finish(service: str) -> None:
    pod = _pod(_deployment(service))
    command = _container(service).get("lifecycle", {}).get("preStop", {}).get("exec", {})
    assert command.get("command", [None])[0] == "sleep", f"{service}: no preStop pause"
    pause = float(command["command"][1])
    grace = pod.get("terminationGracePeriodSeconds", 30)
    assert grace >= pause + SHUTDOWN_BUDGET_SECONDS, (
        f"{service}: {grace}s of grace < {pause}s preStop + {SHUTDOWN_BUDGET_SECONDS}s shutdown"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_environment_names_are_settings_of_the_service(service: str) -> None:
    container = _container(service)
    config_maps = _objects("ConfigMap", _resources())
    secrets = _secret_examples()
    names = {entry["name"]: "env of the Deployment" for entry in container.get("env", [])}
    sources = container.get("envFrom", [])
    kinds = {next(iter(source)) for source in sources}
    assert {"configMapRef", "secretRef"} <= kinds, f"{service}: env from {kinds}"
    for source in sources:
        assert "prefix" not in source, f"{service}: an envFrom prefix renames the settings"
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            assert name in config_maps, f"{service}: no ConfigMap {name}"
            names |= dict.fromkeys(config_maps[name].get("data", {}), f"ConfigMap {name}")
        else:
            name = source["secretRef"]["name"]
            assert name in secrets, f"{service}: Secret {name} has no example in {SECRET_EXAMPLE}"
            names |= dict.fromkeys(secrets[name].get("stringData", {}), f"Secret {name}")
    unknown = {
        name: origin for name, origin in names.items() if name not in service_env_names(service)
    }
    assert not unknown, f"{service} reads no such settings: {unknown}"
    assert f"KAIROS_{service.upper()}_DATABASE_URL" in names, f"{service}: no database URL"
    assert f"KAIROS_{service.upper()}_DATABASE_URL" not in {
        key for cm in config_maps.values() for key in cm.get("data", {})
    }, f"{service}: the database URL (with its password) belongs in the Secret"
    if service != "identity":
        assert "KAIROS_JWKS_URL" in names, f"{service}: where is identity's JWKS?"


def test_every_config_map_and_example_secret_is_read() -> None:
    read = {
        next(iter(source.values()))["name"]
        for workload in _workloads()
        for container in _pod(workload)["containers"]
        for source in container.get("envFrom", [])
    }
    unused = (set(_objects("ConfigMap", _resources())) | set(_secret_examples())) - read
    assert not unused, f"nobody reads {sorted(unused)}"


def test_the_secret_example_holds_the_credentials() -> None:
    keys = {key for secret in _secret_examples().values() for key in secret.get("stringData", {})}
    expected = {f"KAIROS_{service.upper()}_DATABASE_URL" for service in SERVICES} | {
        "KAIROS_IDENTITY_SIGNING_KEY_PEM",
        "KAIROS_NOTIFICATION_SMTP_USERNAME",
        "KAIROS_NOTIFICATION_SMTP_PASSWORD",
    }
    assert expected <= keys, f"{SECRET_EXAMPLE} lacks {sorted(expected - keys)}"


@pytest.mark.parametrize("service", SERVICES)
def test_pod_disruption_budget_keeps_one_pod(service: str) -> None:
    budgets = _objects("PodDisruptionBudget", _resources())
    assert f"kairos-{service}" in budgets, f"no PodDisruptionBudget kairos-{service}"
    spec = budgets[f"kairos-{service}"]["spec"]
    assert spec.get("minAvailable") == 1, f"{service}: minAvailable {spec.get('minAvailable')}"
    assert spec["selector"]["matchLabels"].items() <= _pod_labels(service).items()


@pytest.mark.parametrize("service", SERVICES)
def test_runs_as_the_image_user_without_privileges(service: str) -> None:
    pod = _pod(_deployment(service))
    container = _container(service)
    merged = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    assert merged.get("runAsUser") == _dockerfile_user(service), (
        f"{service}: runs as {merged.get('runAsUser')}, the image's user is "
        f"{_dockerfile_user(service)}"
    )


def _workloads() -> list[Manifest]:
    return [doc for doc in _resources() if doc["kind"] in {"Deployment", "Job"}]


@pytest.mark.parametrize(
    "workload", [doc["metadata"]["name"] for doc in _workloads()] or ["(none)"]
)
def test_every_container_is_bounded_and_unprivileged(workload: str) -> None:
    (document,) = [doc for doc in _workloads() if doc["metadata"]["name"] == workload]
    pod = _pod(document)
    assert pod.get("automountServiceAccountToken") is False, f"{workload}: API token mounted"
    for container in pod["containers"]:
        name = f"{workload}/{container['name']}"
        resources = container.get("resources", {})
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(bound, {})), f"{name}: no {bound}"
        for kind in ("cpu", "memory"):
            request, limit = resources["requests"][kind], resources["limits"][kind]
            assert _quantity(request) <= _quantity(limit), f"{name}: {kind} {request} > {limit}"
        context = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
        assert context.get("runAsNonRoot") is True, f"{name}: runAsNonRoot is not set"
        user = context.get("runAsUser")
        assert isinstance(user, int), f"{name}: no numeric runAsUser (the kubelet cannot check it)"
        assert user > 0, f"{name}: runs as root"
        assert context.get("readOnlyRootFilesystem") is True, f"{name}: root filesystem writable"
        assert context.get("allowPrivilegeEscalation") is False, f"{name}: privilege escalation"
        assert not context.get("privileged"), f"{name}: privileged"
        assert "ALL" in context.get("capabilities", {}).get("drop", []), f"{name}: capabilities"
        assert not context.get("capabilities", {}).get("add"), f"{name}: adds capabilities"
        assert context.get("seccompProfile", {}).get("type") == "RuntimeDefault", (
            f"{name}: no RuntimeDefault seccomp profile (the namespace enforces 'restricted')"
        )


def test_network_policy_admits_the_services_http_port() -> None:
    (policy,) = _objects("NetworkPolicy", _resources()).values()
    selected = policy["spec"]["podSelector"]["matchLabels"]
    ports = {port["port"] for rule in policy["spec"]["ingress"] for port in rule["ports"]}
    for service in SERVICES:
        assert selected.items() <= _pod_labels(service).items(), f"{service}: not selected"
        assert ports & {"http", _default_port(service)}, f"{service}: its port is not admitted"


# ---- the topics Job ------------------------------------------------------------------------


def _commands(script: str) -> list[list[str]]:
    lines = script.replace("\\\n", " ").splitlines()
    return [shlex.split(line) for line in lines if line.strip()]


@functools.cache
def _topic_job() -> Manifest:
    jobs = _objects("Job", _resources())
    assert "kairos-kafka-topics" in jobs, "no Job kairos-kafka-topics"
    return jobs["kairos-kafka-topics"]


@functools.cache
def _topic_job_script() -> str:
    (container,) = _pod(_topic_job())["containers"]
    arguments = [*container.get("command", []), *container.get("args", [])]
    return str(arguments[-1])


def _option(args: list[str], flag: str) -> str:
    assert flag in args, f"{flag} missing in {' '.join(args)}"
    return args[args.index(flag) + 1]


def _configs(args: list[str]) -> dict[str, str]:
    pairs = [args[i + 1] for i, arg in enumerate(args) if arg == "--config"]
    return dict(pair.split("=", 1) for pair in pairs)


@functools.cache
def _compose_topics() -> dict[str, tuple[int, str]]:
    """topic -> (partitions, retention.ms) as docker-compose.yml's kafka-topics creates it."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    command = compose["services"]["kafka-topics"]["command"]
    script = "\n".join(command) if isinstance(command, list) else command
    return {
        _option(args, "--topic"): (
            int(_option(args, "--partitions")),
            _configs(args)["retention.ms"],
        )
        for args in _commands(script)
        if "--create" in args
    }


def test_the_topics_are_the_platforms() -> None:
    assert set(PLATFORM_TOPICS) == {f"kairos.{service}.v1" for service in SERVICES}


@pytest.mark.parametrize("topic", TOPICS)
def test_topic_job_creates_the_topic_replicated(topic: str) -> None:
    creations = [
        args
        for args in _commands(_topic_job_script())
        if "--create" in args and _option(args, "--topic") == topic
    ]
    assert len(creations) == 1, f"the Job creates {topic} {len(creations)} times, not once"
    (args,) = creations
    assert _option(args, "--bootstrap-server") == "$KAIROS_KAFKA_BOOTSTRAP_SERVERS", (
        f"{topic}: not created on the configured Kafka"
    )
    assert int(_option(args, "--replication-factor")) == REPLICATION_FACTOR, f"{topic}: replication"
    configs = _configs(args)
    assert configs.get("min.insync.replicas") == str(MIN_INSYNC_REPLICAS), f"{topic}: min ISR"
    partitions, retention = _compose_topics()[topic]
    assert int(_option(args, "--partitions")) == partitions, (
        f"{topic}: partitions differ from docker-compose.yml's {partitions}"
    )
    assert configs.get("retention.ms") == retention, (
        f"{topic}: retention.ms differs from docker-compose.yml's {retention}"
    )


@pytest.mark.parametrize("topic", TOPICS)
def test_topic_job_reapplies_the_settings_to_an_existing_topic(topic: str) -> None:
    """--if-not-exists leaves an existing topic as it is: kafka-configs --alter catches up."""
    script = _topic_job_script()
    loops = re.findall(
        r"for topic in ([^;]+); do\s+(.*?)\s+done", script.replace("\\\n", " "), flags=re.DOTALL
    )
    altered = [
        _option(shlex.split(body), "--add-config")
        for topics, body in loops
        if topic in topics.split() and "--alter" in body
    ]
    assert len(altered) == 1, f"the Job alters {topic}'s settings {len(altered)} times, not once"
    settings = dict(pair.split("=", 1) for pair in altered[0].split(","))
    assert settings.get("min.insync.replicas") == str(MIN_INSYNC_REPLICAS), f"{topic}: min ISR"
    assert settings.get("retention.ms") == _compose_topics()[topic][1], f"{topic}: retention"


def test_topic_job_reads_kafka_address_from_the_shared_config() -> None:
    (container,) = _pod(_topic_job())["containers"]
    sources = {source["configMapRef"]["name"] for source in container.get("envFrom", [])}
    assert "kairos-shared" in sources, "the Job does not read KAIROS_KAFKA_BOOTSTRAP_SERVERS"
    shared = _objects("ConfigMap", _resources())["kairos-shared"]["data"]
    assert shared.get("KAIROS_KAFKA_BOOTSTRAP_SERVERS"), "kairos-shared has no Kafka address"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert container["image"] == compose["services"]["kafka-topics"]["image"], (
        "the Job's Kafka tools are not the version docker-compose.yml runs"
    )
