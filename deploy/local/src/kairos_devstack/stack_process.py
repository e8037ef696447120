"""``make run`` as a child process on free ports and its own state folder, for the tests that
need the real thing (the stack's own test, the end-to-end story): started, read until ready,
and stopped by signal — killed, with its whole process tree, if it does not stop in time."""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

from kairos_devstack.processes import free_port
from kairos_devstack.stack import SERVICE_PORTS, StackPorts

READY_LINE = "Press Ctrl-C"


def free_stack_ports() -> StackPorts:
    return StackPorts(
        kafka=free_port(), kafka_controller=free_port(), postgres=free_port(), smtp=free_port(),
        smtp_http=free_port(), services={service: free_port() for service in SERVICE_PORTS},
        portal=free_port(),
    )  # fmt: skip


def stack_environment(root: Path, ports: StackPorts) -> dict[str, str]:
    return {
        **os.environ,
        "KAIROS_STATE_DIR": str(root),
        "KAIROS_KAFKA_PORT": str(ports.kafka),
        "KAIROS_KAFKA_CONTROLLER_PORT": str(ports.kafka_controller),
        "KAIROS_POSTGRES_PORT": str(ports.postgres),
        "KAIROS_SMTP_PORT": str(ports.smtp),
        "KAIROS_SMTP_HTTP_PORT": str(ports.smtp_http),
        **{f"KAIROS_{name.upper()}_HTTP_PORT": str(p) for name, p in ports.services.items()},
        "KAIROS_PORTAL_HTTP_PORT": str(ports.portal),
    }


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


@dataclass
class StackProcess:
    process: subprocess.Popen[str]
    ports: StackPorts
    root: Path
    seen: list[str] = field(default_factory=list)
    _output: queue.Queue[str] = field(default_factory=queue.Queue)

    @property
    def output(self) -> str:
        self._drain()
        return "".join(self.seen)

    def _drain(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self.seen.append(self._output.get_nowait())

    def wait_ready(self, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(READY_LINE in line for line in self.seen):
            try:
                self.seen.append(self._output.get(timeout=1))
            except queue.Empty:
                if self.process.poll() is not None:
                    raise AssertionError("the stack exited:\n" + self.output) from None
                if time.monotonic() > deadline:
                    raise AssertionError("not ready in time:\n" + self.output) from None

    def descendants(self) -> list[psutil.Process]:
        with contextlib.suppress(psutil.NoSuchProcess):
            return psutil.Process(self.process.pid).children(recursive=True)
        return []

    def stop(self, stop_signal: signal.Signals = signal.SIGTERM, timeout: float = 180.0) -> int:
        """Signal the stack and wait; past ``timeout``, kill what is left, then fail."""
        tree = self.descendants()
        self.process.send_signal(stop_signal)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for child in [*tree, psutil.Process(self.process.pid)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
            self.process.wait(timeout=30)
            raise AssertionError(f"the stack ignored {stop_signal.name}:\n{self.output}") from None


@contextlib.contextmanager
def stack_process(root: Path, ports: StackPorts | None = None) -> Iterator[StackProcess]:
    """``python -m kairos_devstack run`` in ``root``; stopped (SIGTERM) when the block ends,
    unless the block stopped it itself."""
    ports = ports or free_stack_ports()
    process = subprocess.Popen(
        [sys.executable, "-m", "kairos_devstack", "run"],
        env=stack_environment(root, ports),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = StackProcess(process, ports, root)
    assert process.stdout is not None
    reader = threading.Thread(target=_lines, args=(process.stdout, stack._output), daemon=True)
    reader.start()
    try:
        yield stack
    finally:
        if process.poll() is None:
            stack.stop()
        reader.join(timeout=30)  # it ends at EOF, once every writer of the pipe is gone
        process.stdout.close()


@contextlib.contextmanager
def fresh_stack(prefix: str) -> Iterator[StackProcess]:
    """A ready ``make run`` stack in a new temporary state folder, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)  # PostgreSQL runs as its own user and must reach its folder inside
    try:
        with stack_process(root) as running:
            running.wait_ready()
            yield running
    finally:
        shutil.rmtree(root, ignore_errors=True)
