"""``make run``: the whole stack comes up ready, and Ctrl-C (or SIGTERM) leaves no process."""

from __future__ import annotations

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
from pathlib import Path
from typing import IO

import httpx
import psutil
import pytest

from kairos_devstack.processes import free_port, port_accepts
from kairos_devstack.topics import SERVICES

pytestmark = [pytest.mark.slow, pytest.mark.infra]  # runs its own Kafka and PostgreSQL


@pytest.fixture
def state_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="kairos-test-stack-"))
    folder.chmod(0o755)  # PostgreSQL runs as its own user and must reach its folder inside
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_run_brings_everything_up_and_a_signal_stops_it_all(
    state_dir: Path, stop_signal: signal.Signals
) -> None:
    ports = {
        "KAIROS_KAFKA_PORT": free_port(),
        "KAIROS_KAFKA_CONTROLLER_PORT": free_port(),
        "KAIROS_POSTGRES_PORT": free_port(),
        "KAIROS_SMTP_PORT": free_port(),
        "KAIROS_SMTP_HTTP_PORT": free_port(),
        **{f"KAIROS_{service.upper()}_HTTP_PORT": free_port() for service in SERVICES},
        "KAIROS_PORTAL_HTTP_PORT": free_port(),
    }
    env = {
        **os.environ,
        "KAIROS_STATE_DIR": str(state_dir),
        **{k: str(v) for k, v in ports.items()},
    }
    stack = subprocess.Popen(
        [sys.executable, "-m", "kairos_devstack", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(stack.stdout, output), daemon=True)
    reader.start()
    seen: list[str] = []
    deadline = time.monotonic() + 240
    try:
        while not any("Press Ctrl-C" in line for line in seen):
            try:
                seen.append(output.get(timeout=1))
            except queue.Empty:
                assert stack.poll() is None, "the stack exited:\n" + "".join(seen)
                assert time.monotonic() < deadline, "not ready in time:\n" + "".join(seen)
        for service in SERVICES:
            port = ports[f"KAIROS_{service.upper()}_HTTP_PORT"]
            assert f"http://127.0.0.1:{port}" in "".join(seen)
            ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=10)
            assert ready.status_code == 200, f"{service}: {ready.text}"
        portal = ports["KAIROS_PORTAL_HTTP_PORT"]
        assert f"portal          http://127.0.0.1:{portal}" in "".join(seen)
        assert httpx.get(f"http://127.0.0.1:{portal}/health/ready", timeout=10).status_code == 200
        mail = httpx.get(f"http://127.0.0.1:{ports['KAIROS_SMTP_HTTP_PORT']}/api/v1/messages")
        assert mail.json()["total"] == 0
        started = psutil.Process(stack.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in started)
        assert "kafka.Kafka" in names
        assert "postgres" in names
        assert all(f"kairos_{service}" in names for service in (*SERVICES, "portal"))
    finally:
        stack.send_signal(stop_signal)
        exit_code = stack.wait(timeout=180)
        reader.join(timeout=30)  # it ends at EOF, once every writer of the pipe is gone
        assert stack.stdout is not None
        stack.stdout.close()

    assert exit_code == 0, "".join(seen)
    _, alive = psutil.wait_procs(started, timeout=10)
    assert alive == [], f"left running: {[p.cmdline() for p in alive]}"
    assert not [name for name, port in ports.items() if port_accepts("127.0.0.1", port)]
