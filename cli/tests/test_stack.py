"""``kairos stack start|stop|status`` with a fake stack (the real one is too heavy for a test):
a process that, like the real one, asks for SIGTERM when its parent dies (so it must be detached
properly to outlive the CLI), answers ``/health/ready`` on the four service ports and, on SIGTERM,
takes a second to stop, as the real stack does while it stops its children."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kairos_cli.main import app
from kairos_cli.stack import PID_FILE, StackProcess, is_alive
from kairos_devstack.processes import free_port

FAKE_STACK = """
import ctypes, os, signal, sys, threading, time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path


class Ready(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health/ready" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


stopping = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stopping.set())
ctypes.CDLL(None).prctl(1, int(signal.SIGTERM), 0, 0, 0)  # as the real stack: dies with its parent
ports = [int(os.environ[f"KAIROS_{s}_HTTP_PORT"]) for s in
         ("IDENTITY", "HABILITATION", "DECLARATION", "NOTIFICATION")]
for port in ports:
    server = HTTPServer(("127.0.0.1", port), Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
print("fake stack serving", ports, flush=True)
while not stopping.wait(0.05):
    pass
time.sleep(1.0)
Path(sys.argv[1]).write_text("stopped in order")
print("fake stack stopped", flush=True)
"""


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "state"
    monkeypatch.setenv("KAIROS_STATE_DIR", str(folder))
    return folder


@pytest.fixture
def service_ports(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    ports = {s: free_port() for s in ("identity", "habilitation", "declaration", "notification")}
    for service, port in ports.items():
        monkeypatch.setenv(f"KAIROS_{service.upper()}_HTTP_PORT", str(port))
    return ports


def test_start_waits_until_ready_and_stop_waits_until_the_stack_has_exited(
    state: Path, service_ports: dict[str, int], tmp_path: Path
) -> None:
    script, marker = tmp_path / "fake_stack.py", tmp_path / "stopped"
    script.write_text(FAKE_STACK)
    command = shlex.join([sys.executable, str(script), str(marker)])
    runner = CliRunner()

    started = runner.invoke(app, ["stack", "start", "--command", command, "--timeout", "60"])
    assert started.exit_code == 0, started.output
    assert "Kairos local stack is ready" in started.stdout
    assert f"http://127.0.0.1:{service_ports['notification']}" in started.stdout
    record = json.loads((state / PID_FILE).read_text())
    process = StackProcess(**record)
    assert is_alive(process)
    assert process.pid != 0
    assert "fake stack serving" in (state / "logs" / "stack.log").read_text()
    time.sleep(0.5)  # the CLI's processes are gone: the stack still runs
    assert is_alive(process)

    status = runner.invoke(app, ["stack", "status"])
    assert status.exit_code == 0, status.output
    assert f"running (pid {process.pid}" in status.stdout
    assert status.stdout.count(" ready") == 4

    again = runner.invoke(app, ["stack", "start", "--command", command])
    assert again.exit_code == 0
    assert "already running" in again.stdout
    assert json.loads((state / PID_FILE).read_text())["pid"] == process.pid

    stopped = runner.invoke(app, ["stack", "stop", "--timeout", "30"])
    assert stopped.exit_code == 0, stopped.output
    # The fake stack takes a second after SIGTERM: `stop` returned only once it had exited.
    assert marker.read_text() == "stopped in order"
    assert not is_alive(process)
    assert not (state / PID_FILE).exists()
    assert "fake stack stopped" in (state / "logs" / "stack.log").read_text()

    after = runner.invoke(app, ["stack", "status"])
    assert after.exit_code == 3
    assert "not running" in after.stdout


def test_a_stack_that_exits_while_starting_is_reported_with_its_log(
    state: Path, service_ports: dict[str, int]
) -> None:
    command = shlex.join(
        [sys.executable, "-c", "import sys; print('ports already in use: kafka (9092)'); "
         "sys.exit(1)"]
    )  # fmt: skip
    result = CliRunner().invoke(app, ["stack", "start", "--command", command, "--timeout", "30"])

    assert result.exit_code == 1
    assert "exited while starting" in result.stderr
    assert "ports already in use: kafka (9092)" in result.stderr
    assert not (state / PID_FILE).exists()


def test_a_command_that_cannot_run_is_reported(state: Path) -> None:
    result = CliRunner().invoke(
        app, ["stack", "start", "--no-wait", "--command", "/nonexistent/kairos-stack"]
    )

    assert result.exit_code == 1
    assert "could not start /nonexistent/kairos-stack" in result.stderr
    assert not (state / PID_FILE).exists()


def _write_pid_file(state: Path, pid: int, argv: list[str]) -> None:
    state.mkdir(parents=True, exist_ok=True)
    record = {"pid": pid, "argv": argv, "log": "stack.log", "started_at": "2026-03-02T09:00:00"}
    (state / PID_FILE).write_text(json.dumps(record))


def test_a_pid_file_whose_process_is_gone_is_stale(
    state: Path, service_ports: dict[str, int]
) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    _write_pid_file(state, gone.pid, ["true"])

    status = CliRunner().invoke(app, ["stack", "status"])

    assert status.exit_code == 3
    assert "stale pid file" in status.stderr
    assert "not running" in status.stdout
    assert not (state / PID_FILE).exists()


def test_a_reused_pid_is_not_signalled(state: Path) -> None:
    """The pid now belongs to another program: `stop` must not kill it."""
    other = subprocess.Popen(["sleep", "60"])
    try:
        _write_pid_file(state, other.pid, [sys.executable, "-m", "kairos_devstack", "run"])

        stopped = CliRunner().invoke(app, ["stack", "stop", "--timeout", "2"])

        assert stopped.exit_code == 0, stopped.output
        assert "not running" in stopped.stdout
        assert "stale pid file" in stopped.stderr
        assert other.poll() is None
        assert not (state / PID_FILE).exists()
    finally:
        other.kill()
        other.wait()


def test_an_unreadable_pid_file_is_stale(state: Path) -> None:
    state.mkdir(parents=True)
    (state / PID_FILE).write_text("not json")

    stopped = CliRunner().invoke(app, ["stack", "stop"])

    assert stopped.exit_code == 0
    assert "stale pid file (unreadable" in stopped.stderr
    assert not (state / PID_FILE).exists()
