"""``kairos stack start|stop|status``: the local stack (``make run``) in the background.

``start`` runs ``python -m kairos_devstack run`` detached (see :mod:`kairos_cli.detach`), with a
pid file and a log file under the state folder (``.local/run``, ``KAIROS_STATE_DIR``), and waits
until every service answers ``/health/ready``; ``stop`` sends SIGTERM (the stack then stops all
its children, by pid) and waits for the process to exit. A pid file whose process is gone, or
whose pid now belongs to another program, is stale: it is removed, never signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import httpx
import typer

from kairos_cli.common import fail, guarded

app = typer.Typer(help="The local stack (what `make run` runs), in the background.")
PID_FILE = "kairos-stack.pid"
LOG_FILE = "stack.log"
NOT_RUNNING = 3
"""``status``'s exit code when the stack is not running (as LSB init scripts do)."""


@dataclass(frozen=True)
class StackFiles:
    state: Path

    @property
    def pid_file(self) -> Path:
        return self.state / PID_FILE

    @property
    def log_file(self) -> Path:
        return self.state / "logs" / LOG_FILE

    @classmethod
    def default(cls) -> StackFiles:
        from kairos_devstack.paths import state_dir  # noqa: PLC0415 - only the stack needs it

        return cls(state_dir())


@dataclass(frozen=True)
class StackProcess:
    pid: int
    argv: list[str]
    log: str
    started_at: str


def default_command() -> list[str]:
    return [sys.executable, "-m", "kairos_devstack", "run"]


def _proc_state(pid: int) -> str | None:
    """The process's state letter from /proc (None where there is no /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[0]


def is_alive(process: StackProcess) -> bool:
    """Whether ``process`` still runs: its pid exists, is not a zombie and, where /proc tells,
    runs the same command (a reused pid is another program)."""
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user: the command line below decides
    if _proc_state(process.pid) in {"Z", "X"}:
        return False
    try:
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
    except OSError:
        return not Path("/proc/self").exists()  # no /proc here: trust the pid
    return cmdline.split(b"\0")[:-1] == [arg.encode() for arg in process.argv]


def read_pid_file(files: StackFiles) -> StackProcess | None:
    try:
        data = json.loads(files.pid_file.read_text())
        return StackProcess(
            int(data["pid"]), [str(a) for a in data["argv"]], str(data["log"]),
            str(data["started_at"]),
        )  # fmt: skip
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return StackProcess(-1, [], "", "")  # unreadable: stale


def running(files: StackFiles) -> tuple[StackProcess | None, StackProcess | None]:
    """(the running stack, a stale record that was just removed)."""
    process = read_pid_file(files)
    if process is None:
        return None, None
    if process.pid > 0 and is_alive(process):
        return process, None
    files.pid_file.unlink(missing_ok=True)
    return None, process


def _stale_note(stale: StackProcess | None) -> None:
    if stale is not None:
        pid = f"pid {stale.pid}" if stale.pid > 0 else "unreadable"
        typer.echo(f"removed a stale pid file ({pid}: that process no longer runs)", err=True)


def launch(files: StackFiles, argv: list[str]) -> StackProcess:
    """Start ``argv`` detached, its output appended to the log file; the pid file written."""
    files.log_file.parent.mkdir(parents=True, exist_ok=True)
    read_end, write_end = os.pipe()
    try:
        with files.log_file.open("ab") as log:
            launcher = subprocess.Popen(  # noqa: S603 - a fixed module and the given argv
                [sys.executable, "-m", "kairos_cli.detach", str(write_end), "--", *argv],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(write_end,),
                start_new_session=True,
            )  # fmt: skip
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as channel:
        answer = channel.read().decode(errors="replace")  # ends when argv is executed
    launcher.wait(30)
    first, _, rest = answer.partition("\n")
    if launcher.returncode != 0 or not first.strip().isdigit() or rest.strip():
        fail(f"could not start {shlex.join(argv)}: {rest.strip() or answer.strip() or 'no pid'}"
             f" (log: {files.log_file})")  # fmt: skip
    process = StackProcess(
        int(first), argv, str(files.log_file), datetime.now(UTC).isoformat(timespec="seconds")
    )
    files.pid_file.write_text(json.dumps(asdict(process)) + "\n")
    return process


def stop_process(process: StackProcess, timeout: float) -> bool:
    """SIGTERM, then wait up to ``timeout`` seconds for the process to exit."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while is_alive(process):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _service_ports() -> dict[str, int]:
    from kairos_devstack.stack import StackPorts  # noqa: PLC0415 - only the stack needs it

    return dict(StackPorts().services)


def readiness(ports: dict[str, int]) -> dict[str, str]:
    """Each service's ``/health/ready`` in words: ``ready``, why not, or ``not answering``."""
    states = {}
    for service, port in ports.items():
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2.0)
        except httpx.HTTPError:
            states[service] = "not answering"
            continue
        if response.status_code == httpx.codes.OK:
            states[service] = "ready"
        else:
            states[service] = f"not ready ({response.status_code}): {response.text.strip()[:300]}"
    return states


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_ready(files: StackFiles, process: StackProcess, timeout: float) -> None:
    ports = _service_ports()
    deadline = time.monotonic() + timeout
    while True:
        if not is_alive(process):
            files.pid_file.unlink(missing_ok=True)
            fail(f"the stack exited while starting; the end of {files.log_file}:\n"
                 f"{_log_tail(files.log_file)}")  # fmt: skip
        states = readiness(ports)
        if all(state == "ready" for state in states.values()):
            return
        if time.monotonic() > deadline:
            waiting = ", ".join(f"{s}: {state}" for s, state in states.items() if state != "ready")
            fail(f"not ready after {timeout:.0f} s ({waiting}); the stack keeps running "
                 f"(`kairos stack stop` to stop it), log: {files.log_file}")  # fmt: skip
        time.sleep(1.0)


def _where() -> str:
    from kairos_devstack.stack import StackPorts  # noqa: PLC0415 - only the stack needs it

    ports = StackPorts()
    lines = [
        f"  kafka           127.0.0.1:{ports.kafka}",
        f"  postgresql      postgresql://postgres@127.0.0.1:{ports.postgres}/<service>",
        f"  smtp sink       smtp://127.0.0.1:{ports.smtp}  "
        f"mail at http://127.0.0.1:{ports.smtp_http}/api/v1/messages",
    ]
    lines += [
        f"  {service:<15} http://127.0.0.1:{port}  (OpenAPI at /docs)"
        for service, port in ports.services.items()
    ]
    return "\n".join(lines)


@app.command()
@guarded
def start(
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait until every service is ready.")
    ] = True,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait (the first run fetches Kafka).")
    ] = 600.0,
    command: Annotated[
        str | None, typer.Option("--command", hidden=True, help="Run this instead (tests).")
    ] = None,
) -> None:
    """Start Kafka, PostgreSQL, the SMTP sink and the four services in the background."""
    files = StackFiles.default()
    current, stale = running(files)
    _stale_note(stale)
    if current is not None:
        typer.echo(f"the stack is already running (pid {current.pid}, log {current.log})")
        return
    argv = shlex.split(command) if command else default_command()
    process = launch(files, argv)
    typer.echo(f"stack started (pid {process.pid}), log: {process.log}")
    if not wait:
        return
    typer.echo("waiting for every service to answer /health/ready…", err=True)
    wait_ready(files, process, timeout)
    typer.echo("Kairos local stack is ready:")
    typer.echo(_where())
    typer.echo(f"  logs            {files.state / 'logs'}/")


@app.command()
@guarded
def stop(
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for the stack to exit.")
    ] = 180.0,
) -> None:
    """Stop the stack (SIGTERM) and wait until it has stopped everything it started."""
    files = StackFiles.default()
    current, stale = running(files)
    _stale_note(stale)
    if current is None:
        typer.echo("the stack is not running")
        return
    typer.echo(f"stopping the stack (pid {current.pid})…", err=True)
    if not stop_process(current, timeout):
        fail(f"the stack (pid {current.pid}) is still running after {timeout:.0f} s; see "
             f"{current.log}")  # fmt: skip
    files.pid_file.unlink(missing_ok=True)
    typer.echo("stack stopped")


@app.command()
@guarded
def status() -> None:
    """Whether the stack runs, and each service's readiness (exit 3 when not running)."""
    files = StackFiles.default()
    current, stale = running(files)
    _stale_note(stale)
    if current is None:
        typer.echo("stack: not running")
    else:
        typer.echo(f"stack: running (pid {current.pid}, since {current.started_at}), "
                   f"log {current.log}")  # fmt: skip
    for service, state in readiness(_service_ports()).items():
        typer.echo(f"  {service:<13} {state}")
    if current is None:
        raise typer.Exit(NOT_RUNNING)
