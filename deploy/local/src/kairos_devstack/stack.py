"""``make run``: the whole platform on this machine, stopped as a whole.

Starts Kafka and PostgreSQL (in parallel), creates the platform topics and one database per
service, starts the SMTP sink and the four services, waits until every ``/health/ready`` answers
200, prints where each listens, and on Ctrl-C or SIGTERM stops everything it started, by pid, in
reverse order. Data is kept under the state folder (``.local/run``) between runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from kairos_devstack.kafka import KafkaCluster
from kairos_devstack.paths import state_dir
from kairos_devstack.postgres import EmbeddedPostgres
from kairos_devstack.processes import (
    ManagedProcess,
    StartupError,
    port_accepts,
    spawn,
    wait_until,
)
from kairos_devstack.topics import SERVICES, create_platform_topics


def clock_offset_file(root: Path) -> Path:
    return root / "clock-offset"


SERVICE_PORTS = {"identity": 8001, "habilitation": 8002, "declaration": 8003, "notification": 8004}
PORTAL_PORT = 8000


def _env_port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass
class StackPorts:
    kafka: int = field(default_factory=lambda: _env_port("KAIROS_KAFKA_PORT", 9092))
    kafka_controller: int = field(
        default_factory=lambda: _env_port("KAIROS_KAFKA_CONTROLLER_PORT", 9093)
    )
    postgres: int = field(default_factory=lambda: _env_port("KAIROS_POSTGRES_PORT", 5432))
    smtp: int = field(default_factory=lambda: _env_port("KAIROS_SMTP_PORT", 1025))
    smtp_http: int = field(default_factory=lambda: _env_port("KAIROS_SMTP_HTTP_PORT", 8025))
    services: dict[str, int] = field(
        default_factory=lambda: {
            service: _env_port(f"KAIROS_{service.upper()}_HTTP_PORT", port)
            for service, port in SERVICE_PORTS.items()
        }
    )
    portal: int = field(default_factory=lambda: _env_port("KAIROS_PORTAL_HTTP_PORT", PORTAL_PORT))

    def all(self) -> dict[str, int]:
        return {
            "kafka": self.kafka,
            "kafka controller": self.kafka_controller,
            "postgresql": self.postgres,
            "smtp": self.smtp,
            "smtp sink http": self.smtp_http,
            **self.services,
            "portal": self.portal,
        }


def _http_ready(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            return httpx.get(url, timeout=2.0).status_code == httpx.codes.OK
        except httpx.HTTPError:
            return False

    return ready


@dataclass
class LocalStack:
    root: Path
    ports: StackPorts = field(default_factory=StackPorts)
    kafka: KafkaCluster | None = None
    postgres: EmbeddedPostgres | None = None
    processes: list[ManagedProcess] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def clock_offset_file(self) -> Path:
        """How far ahead of the system's the services' clock runs (`make demo` moves it)."""
        return clock_offset_file(self.root)

    def check_ports(self) -> None:
        taken = {
            name: port for name, port in self.ports.all().items() if port_accepts("127.0.0.1", port)
        }
        if taken:
            listing = ", ".join(f"{name} ({port})" for name, port in taken.items())
            raise StartupError(
                f"ports already in use: {listing}. Is another stack running? Stop it, or set "
                "KAIROS_KAFKA_PORT, KAIROS_POSTGRES_PORT, KAIROS_SMTP_PORT, KAIROS_SMTP_HTTP_PORT"
            )

    def start(self) -> None:
        self.check_ports()
        self.kafka = KafkaCluster.plan(
            self.root / "kafka", [(self.ports.kafka, self.ports.kafka_controller)]
        )
        self.postgres = EmbeddedPostgres(self.root / "postgres", self.ports.postgres)
        with ThreadPoolExecutor(max_workers=2) as pool:
            prepared = [pool.submit(self.kafka.prepare), pool.submit(self.postgres.prepare)]
            for future in prepared:
                future.result()
        # Launched from this (main) thread: children die with the thread that started them.
        self.kafka.launch()
        self.postgres.launch()
        self.kafka.wait_ready()
        self.postgres.wait_ready()
        self.postgres.create_databases((*SERVICES, "portal"))
        asyncio.run(create_platform_topics(self.kafka.bootstrap_servers))
        self._start_smtp_sink()
        for service in SERVICES:
            self._start_service(service)
        for service in SERVICES:
            process = next(p for p in self.processes if p.name == service)
            wait_until(
                _http_ready(f"http://127.0.0.1:{self.ports.services[service]}/health/ready"),
                process=process,
                timeout=90,
                what="ready",
            )
        self._start_portal()

    def _start_portal(self) -> None:
        """The web application (:mod:`kairos_portal`): a client of the four services' APIs."""
        assert self.postgres is not None
        urls = {
            f"KAIROS_PORTAL_{service.upper()}_URL": f"http://127.0.0.1:{port}"
            for service, port in self.ports.services.items()
        }
        env = {
            "KAIROS_PORTAL_DEVELOPMENT": "true",  # plain http on 127.0.0.1: no Secure cookie
            "KAIROS_CLOCK_OFFSET_FILE": str(self.clock_offset_file),
            "KAIROS_LOG_FORMAT": "console",
            **os.environ,
            **urls,
            "KAIROS_PORTAL_DATABASE_URL": self.postgres.dsn("portal"),
            "KAIROS_PORTAL_HTTP_PORT": str(self.ports.portal),
        }
        process = spawn(
            "portal", [sys.executable, "-m", "kairos_portal"],
            log_path=self.logs / "portal.log", env=env, stop_timeout=20,
        )  # fmt: skip
        self.processes.append(process)
        wait_until(
            _http_ready(f"http://127.0.0.1:{self.ports.portal}/health/ready"),
            process=process, timeout=60, what="ready",
        )  # fmt: skip

    def _start_smtp_sink(self) -> None:
        process = spawn(
            "smtp-sink",
            [
                sys.executable,
                "-m",
                "kairos_devstack.smtp_sink",
                "--smtp-port",
                str(self.ports.smtp),
                "--http-port",
                str(self.ports.smtp_http),
            ],
            log_path=self.logs / "smtp-sink.log",
            stop_timeout=10,
        )
        self.processes.append(process)
        wait_until(
            _http_ready(f"http://127.0.0.1:{self.ports.smtp_http}/health/ready"),
            process=process,
            timeout=30,
            what="ready",
        )

    def _start_service(self, service: str) -> None:
        assert self.kafka is not None
        assert self.postgres is not None
        prefix = f"KAIROS_{service.upper()}_"
        env = {
            # Development defaults, each overridable from the environment: deadlines checked
            # every 5 s, and one clock for the four services that `make demo` can move.
            f"{prefix}DEADLINES_INTERVAL_SECONDS": "5",
            "KAIROS_CLOCK_OFFSET_FILE": str(self.clock_offset_file),
            "KAIROS_LOG_FORMAT": "console",
            **os.environ,
            "KAIROS_KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
            f"{prefix}DATABASE_URL": self.postgres.dsn(service),
            f"{prefix}HTTP_PORT": str(self.ports.services[service]),
            "KAIROS_JWKS_URL": (
                f"http://127.0.0.1:{self.ports.services['identity']}/.well-known/jwks.json"
            ),
            "KAIROS_NOTIFICATION_SMTP_HOST": "127.0.0.1",
            "KAIROS_NOTIFICATION_SMTP_PORT": str(self.ports.smtp),
        }
        self.processes.append(
            spawn(
                service,
                [sys.executable, "-m", f"kairos_{service}"],
                log_path=self.logs / f"{service}.log",
                env=env,
                stop_timeout=20,
            )
        )

    def stop(self) -> None:
        """Stop every process we started, services first, and wait for each."""
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        if self.kafka is not None:
            self.kafka.stop()
        if self.postgres is not None:
            self.postgres.stop()

    def describe(self) -> str:
        assert self.kafka is not None
        assert self.postgres is not None
        lines = [
            "Kairos local stack is ready:",
            f"  kafka           {self.kafka.bootstrap_servers}",
            f"  postgresql      {self.postgres.dsn('<service>')}",
            f"  smtp sink       smtp://127.0.0.1:{self.ports.smtp}  "
            f"mail at http://127.0.0.1:{self.ports.smtp_http}/api/v1/messages",
        ]
        lines += [
            f"  {service:<15} http://127.0.0.1:{port}  (OpenAPI at /docs)"
            for service, port in self.ports.services.items()
        ]
        lines += [
            f"  portal          http://127.0.0.1:{self.ports.portal}  (the web application)",
            f"  logs            {self.logs}/",
            "Press Ctrl-C to stop everything.",
        ]
        return "\n".join(lines)


def _die_with_parent() -> None:
    """If whatever started us (make) dies, we get SIGTERM and stop the stack in order."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, int(signal.SIGTERM), 0, 0, 0)


def run() -> int:
    stop_requested = threading.Event()

    def request_stop(signum: int, _: FrameType | None) -> None:
        stop_requested.set()
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    _die_with_parent()
    stack = LocalStack(state_dir())
    started = time.monotonic()
    try:
        stack.start()
        print(stack.describe(), f"\n(ready in {time.monotonic() - started:.1f}s)", flush=True)
        while not stop_requested.wait(1.0):
            dead = [p for p in stack.processes if not p.is_running()]
            if dead:
                names = ", ".join(
                    f"{p.name} (exit {p.popen.returncode}, log {p.log_path})" for p in dead
                )
                print(f"stopping: a process exited on its own: {names}", file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        print("\nstopping the stack…", flush=True)
        return 0
    except StartupError as error:
        print(f"the stack could not start: {error}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        print("stopped: no process of the stack is left running.", flush=True)
    return 0
