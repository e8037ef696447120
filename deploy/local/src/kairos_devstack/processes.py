"""Starting and stopping the stack's processes, always by their pid.

Every child is started with ``PR_SET_PDEATHSIG`` so that it is signalled if the process that
started it dies without cleaning up (a SIGKILLed pytest, a crashed supervisor): nothing is left
behind even then.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _die_with_parent(sig: signal.Signals) -> Callable[[], None]:
    def set_parent_death_signal() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)

    return set_parent_death_signal


@dataclass
class ManagedProcess:
    """A child process of the stack, with its log file and how it is asked to stop."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: signal.Signals = signal.SIGTERM
    kill_signal: signal.Signals = signal.SIGKILL
    stop_timeout: float = 30.0
    _log_file: object = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def is_running(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> int | None:
        """Ask the process to stop, wait, then kill it: returns its exit code."""
        if self.is_running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, self.stop_signal)
            try:
                self.popen.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, self.kill_signal)
                self.popen.wait(10)
        close = getattr(self._log_file, "close", None)
        if close is not None:
            close()
        return self.popen.returncode

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
    stop_signal: signal.Signals = signal.SIGTERM,
    parent_death_signal: signal.Signals = signal.SIGTERM,
    stop_timeout: float = 30.0,
) -> ManagedProcess:
    """Start ``argv`` in its own session, output to ``log_path``, bound to this process's life."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("ab")
    popen = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        user=user,
        start_new_session=True,
        preexec_fn=_die_with_parent(parent_death_signal),  # noqa: PLW1509 - only sets prctl
    )
    return ManagedProcess(
        name=name,
        popen=popen,
        log_path=log_path,
        stop_signal=stop_signal,
        stop_timeout=stop_timeout,
        _log_file=log_file,
    )


class StartupError(RuntimeError):
    """A process of the stack did not become ready: the message carries its log's tail."""


def wait_until(
    ready: Callable[[], bool],
    *,
    process: ManagedProcess,
    timeout: float,
    what: str,
    interval: float = 0.2,
) -> None:
    """Poll ``ready`` until true; fail with the process's log if it exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.is_running():
            raise StartupError(
                f"{process.name} exited with code {process.popen.returncode} before {what}; "
                f"last lines of {process.log_path}:\n{process.log_tail()}"
            )
        if ready():
            return
        time.sleep(interval)
    raise StartupError(
        f"{process.name} was not {what} after {timeout:.0f}s; "
        f"last lines of {process.log_path}:\n{process.log_tail()}"
    )


def port_accepts(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


_PORTS_BELOW = 10_000
"""Ports a test server may take start here, above ``make run``'s and the usual services'."""
_PORTS_ENOUGH = 1_000
"""Fewer ports than this below the ephemeral range (an unusual kernel setting): bind(0)."""


def ephemeral_ports() -> range:
    """The kernel's range for the local ports of outgoing connections (Linux's default if it
    cannot be read)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32_768, 61_000)


def free_port(host: str = "127.0.0.1") -> int:
    """A port free now, for a test server (never clashing with ``make run``), chosen at random
    below the ephemeral range: a port the kernel hands out for ``bind(0)`` may go to an
    outgoing connection before the server meant to listen there binds it (a Kafka broker of a
    test failed to start that way, 'Address already in use')."""
    ephemeral = ephemeral_ports()
    candidates = range(_PORTS_BELOW, ephemeral.start)
    chooser = random.SystemRandom()
    for _ in range(100 if len(candidates) >= _PORTS_ENOUGH else 0):
        port = chooser.choice(candidates)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
