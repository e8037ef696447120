"""Apache Kafka in KRaft mode from Maven Central jars, run with the machine's Java 17.

``ensure_jars`` resolves the broker with Maven into ``.cache/kafka/<version>/libs`` (once: a second
run reuses them). ``KafkaCluster.start`` formats each node's storage and starts it; one node is
broker and controller at once (``--standalone``), three nodes form a static quorum with
replication 3 and ``min.insync.replicas=2`` for fault tests.

Security (tests of deploy/kafka/acls.toml): ``listener_protocol="SASL_PLAINTEXT"`` makes the
broker port a SASL listener, ``scram_credentials`` are created when the storage is formatted
(``kafka-storage format --add-scram``), and :func:`sasl_scram_properties` gives the listener's
SCRAM settings; the controller listener stays PLAINTEXT on the loopback interface.
``ensure_tools_jar`` adds Kafka's command-line tools (``AclCommand``) to the jars, for
:mod:`kairos_devstack.kafka_acls`.
"""

from __future__ import annotations

import base64
import re
import shutil
import signal
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kairos_devstack.paths import cache_dir, repository_root
from kairos_devstack.processes import ManagedProcess, StartupError, port_accepts, spawn, wait_until

HOST = "127.0.0.1"


def kafka_pom() -> Path:
    return repository_root() / "deploy" / "kafka" / "pom.xml"


def kafka_version() -> str:
    """The pinned version, read from the pom so there is one place to change it."""
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", kafka_pom().read_text())
    if match is None:
        raise StartupError(f"{kafka_pom()} has no <kafka.version> property")
    return match.group(1).strip()


def ensure_jars() -> Path:
    """The folder of Kafka's jars, resolved by Maven the first time."""
    libs = cache_dir() / "kafka" / kafka_version() / "libs"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    if shutil.which("mvn") is None:
        raise StartupError("Maven (mvn) is needed to fetch Kafka's jars from Maven Central")
    if libs.exists():
        shutil.rmtree(libs)
    result = subprocess.run(
        [
            "mvn",
            "-B",
            "-q",
            "-f",
            str(kafka_pom()),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not any(libs.glob("kafka_2.13-*.jar")):
        raise StartupError(f"Maven could not resolve Kafka's jars:\n{result.stdout}{result.stderr}")
    marker.write_text(kafka_version())
    return libs


def ensure_tools_jar() -> Path:
    """The kafka-tools jar (``AclCommand``…), resolved by Maven the first time. Only that jar:
    its dependencies are the broker's (:func:`ensure_jars`), run with ``libs/*`` on the
    classpath; the broker's own classpath does not get it."""
    jar = cache_dir() / "kafka" / kafka_version() / "tools" / f"kafka-tools-{kafka_version()}.jar"
    if jar.exists():
        return jar
    if shutil.which("mvn") is None:
        raise StartupError("Maven (mvn) is needed to fetch Kafka's tools from Maven Central")
    result = subprocess.run(
        [
            "mvn",
            "-B",
            "-q",
            "-f",
            str(kafka_pom()),
            "dependency:copy",
            f"-Dartifact=org.apache.kafka:kafka-tools:{kafka_version()}",
            f"-DoutputDirectory={jar.parent}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not jar.exists():
        raise StartupError(f"Maven could not resolve kafka-tools:\n{result.stdout}{result.stderr}")
    return jar


_SCRAM_VALUE = re.compile(r"[A-Za-z0-9._~-]+")


@dataclass(frozen=True)
class ScramCredential:
    """A SCRAM user created when the storage is formatted (``--add-scram``)."""

    username: str
    password: str
    mechanism: str = "SCRAM-SHA-512"

    def __post_init__(self) -> None:
        for value in (self.username, self.password):
            if not _SCRAM_VALUE.fullmatch(value):
                raise ValueError("SCRAM names and passwords here: letters, digits, . _ ~ - only")

    @property
    def format_argument(self) -> str:
        return f"{self.mechanism}=[name={self.username},password={self.password}]"


def sasl_scram_properties(listener: str, inter_broker: ScramCredential) -> dict[str, str]:
    """A SASL listener's SCRAM settings; the broker authenticates to itself (inter-broker) as
    ``inter_broker``, which must be a super user when an authorizer is on."""
    jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{inter_broker.username}" password="{inter_broker.password}";'
    )
    name = listener.lower()
    mechanism = inter_broker.mechanism.lower()
    return {
        "sasl.enabled.mechanisms": inter_broker.mechanism,
        "sasl.mechanism.inter.broker.protocol": inter_broker.mechanism,
        f"listener.name.{name}.sasl.enabled.mechanisms": inter_broker.mechanism,
        f"listener.name.{name}.{mechanism}.sasl.jaas.config": jaas,
    }


@dataclass(frozen=True)
class KafkaNodeConfig:
    node_id: int
    broker_port: int
    controller_port: int
    data_dir: Path

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.broker_port}"

    @property
    def controller(self) -> str:
        return f"{HOST}:{self.controller_port}"


def server_properties(
    node: KafkaNodeConfig,
    voters: list[KafkaNodeConfig],
    extra: Mapping[str, str],
    listener_protocol: str = "PLAINTEXT",
) -> str:
    replication = min(3, len(voters))
    listener = listener_protocol  # the broker listener is named after its protocol
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node.node_id),
        "listeners": f"{listener}://{node.bootstrap},CONTROLLER://{node.controller}",
        "advertised.listeners": f"{listener}://{node.bootstrap}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": listener,
        "listener.security.protocol.map": f"CONTROLLER:PLAINTEXT,{listener}:{listener_protocol}",
        "log.dirs": str(node.data_dir / "log"),
        "auto.create.topics.enable": "false",
        "num.partitions": "3",
        "default.replication.factor": str(replication),
        "min.insync.replicas": str(min(2, replication)),
        "offsets.topic.replication.factor": str(replication),
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": str(replication),
        "transaction.state.log.min.isr": str(min(2, replication)),
        "share.coordinator.state.topic.replication.factor": str(replication),
        "share.coordinator.state.topic.min.isr": str(min(2, replication)),
        "group.initial.rebalance.delay.ms": "0",
    }
    if len(voters) == 1:
        props["controller.quorum.bootstrap.servers"] = node.controller
    else:
        props["controller.quorum.voters"] = ",".join(
            f"{voter.node_id}@{voter.controller}" for voter in voters
        )
    props.update(extra)
    return "".join(f"{key}={value}\n" for key, value in props.items())


@dataclass
class KafkaCluster:
    """One or more local Kafka nodes; ``bootstrap_servers`` is what clients are given."""

    nodes: list[KafkaNodeConfig]
    extra_properties: Mapping[str, str] = field(default_factory=dict)
    heap: str = "512m"
    processes: dict[int, ManagedProcess] = field(default_factory=dict)
    listener_protocol: str = "PLAINTEXT"
    scram_credentials: tuple[ScramCredential, ...] = ()

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    @classmethod
    def plan(
        cls,
        base_dir: Path,
        ports: list[tuple[int, int]],
        *,
        extra_properties: Mapping[str, str] | None = None,
        heap: str = "512m",
        listener_protocol: str = "PLAINTEXT",
        scram_credentials: tuple[ScramCredential, ...] = (),
    ) -> KafkaCluster:
        nodes = [
            KafkaNodeConfig(i + 1, broker, controller, base_dir / f"node-{i + 1}")
            for i, (broker, controller) in enumerate(ports)
        ]
        return cls(
            nodes=nodes,
            extra_properties=dict(extra_properties or {}),
            heap=heap,
            listener_protocol=listener_protocol,
            scram_credentials=tuple(scram_credentials),
        )

    def _java(self, libs: Path, main: str, *args: str) -> list[str]:
        log4j = repository_root() / "deploy" / "kafka" / "log4j2.yaml"
        return [
            "java",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            f"{libs}/*",
            main,
            *args,
        ]

    def _format(self, libs: Path, node: KafkaNodeConfig, cluster_id: str) -> None:
        if (node.data_dir / "log" / "meta.properties").exists():
            return
        # "--cluster-id=…" in one argument: a random id may start with "-" (argparse would
        # read it as an option).
        args = [
            "format",
            f"--cluster-id={cluster_id}",
            "-c",
            str(node.data_dir / "server.properties"),
        ]
        if len(self.nodes) == 1:
            args.append("--standalone")
        for credential in self.scram_credentials:
            args += ["--add-scram", credential.format_argument]
        result = subprocess.run(
            self._java(libs, "kafka.tools.StorageTool", *args),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StartupError(f"kafka-storage format failed:\n{result.stdout}{result.stderr}")

    def prepare(self) -> None:
        """Resolve the jars, write each node's configuration and format its storage (blocking,
        starts nothing that outlives the call: safe from a worker thread)."""
        libs = ensure_jars()
        cluster_id_file = self.nodes[0].data_dir.parent / "cluster.id"
        if cluster_id_file.exists():
            cluster_id = cluster_id_file.read_text().strip()
        else:
            cluster_id = _random_cluster_id()
            cluster_id_file.parent.mkdir(parents=True, exist_ok=True)
            cluster_id_file.write_text(cluster_id)
        for node in self.nodes:
            node.data_dir.mkdir(parents=True, exist_ok=True)
            (node.data_dir / "server.properties").write_text(
                server_properties(node, self.nodes, self.extra_properties, self.listener_protocol)
            )
            self._format(libs, node, cluster_id)

    def launch(self) -> None:
        """Start every node without waiting. Call from a long-lived thread: the nodes are bound
        to the life of the thread that starts them."""
        for node in self.nodes:
            self.start_node(node.node_id, wait=False)

    def wait_ready(self, timeout: float = 90.0) -> None:
        for node in self.nodes:
            self.wait_node(node.node_id, timeout)

    def start(self, timeout: float = 90.0) -> None:
        self.prepare()
        self.launch()
        self.wait_ready(timeout)

    def start_node(self, node_id: int, *, wait: bool = True, timeout: float = 90.0) -> None:
        node = self._node(node_id)
        self.processes[node_id] = spawn(
            f"kafka-{node_id}",
            self._java(ensure_jars(), "kafka.Kafka", str(node.data_dir / "server.properties")),
            log_path=node.data_dir.parent / "logs" / f"kafka-{node_id}.log",
            stop_timeout=60.0,
        )
        if wait:
            self.wait_node(node_id, timeout)

    def wait_node(self, node_id: int, timeout: float = 90.0) -> None:
        node = self._node(node_id)
        wait_until(
            lambda: port_accepts(HOST, node.broker_port),
            process=self.processes[node_id],
            timeout=timeout,
            what=f"listening on {node.bootstrap}",
        )

    def stop_node(self, node_id: int, *, kill: bool = False) -> None:
        process = self.processes.pop(node_id, None)
        if process is None:
            return
        if kill:
            process.stop_signal = signal.SIGKILL
        process.stop()

    def stop(self, *, kill: bool = False) -> None:
        """Stop every node; ``kill`` for throwaway data (no controlled shutdown to wait for)."""
        for node_id in list(self.processes):
            self.stop_node(node_id, kill=kill)

    def _node(self, node_id: int) -> KafkaNodeConfig:
        return next(node for node in self.nodes if node.node_id == node_id)


def _random_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 characters)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
