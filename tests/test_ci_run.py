""".ci/run, CI's entry point: it exits non-zero when `make test` fails, stops it past its
overall budget (below CI's 90 minutes) with a message, and gives a shallow clone the whole
history the schema-compatibility gate needs, or fails saying it cannot. `make` is a stub here
(it records how it was called); the script is the working tree's. No infrastructure."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / ".ci" / "run"


def _git(*arguments: str, cwd: Path | None = None) -> None:
    subprocess.run(["git", *arguments], cwd=cwd, check=True, capture_output=True, timeout=120)


def _checkout(folder: Path) -> Path:
    """`folder` with the working tree's .ci/run in it."""
    (folder / ".ci").mkdir(parents=True, exist_ok=True)
    shutil.copy2(RUN, folder / ".ci" / "run")
    return folder


def _run(
    checkout: Path, tmp_path: Path, make: str, **environment: str
) -> subprocess.CompletedProcess[str]:
    stubs = tmp_path / "stubs"
    stubs.mkdir(exist_ok=True)
    (stubs / "make").write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/make.calls"\n{make}\n')
    (stubs / "make").chmod(0o755)
    return subprocess.run(
        [str(checkout / ".ci" / "run")],
        env={**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", **environment},
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def _calls(tmp_path: Path) -> list[str]:
    calls = tmp_path / "make.calls"
    return calls.read_text().splitlines() if calls.exists() else []


def _repository(tmp_path: Path) -> Path:
    folder = tmp_path / "repository"
    _git("init", "--quiet", str(folder))
    return _checkout(folder)


def test_a_failing_make_test_fails_the_run(tmp_path: Path) -> None:
    completed = _run(_repository(tmp_path), tmp_path, "exit 3")

    assert completed.returncode == 3, completed.stderr
    assert _calls(tmp_path) == ["test"]


def test_a_passing_make_test_passes_the_run(tmp_path: Path) -> None:
    completed = _run(_repository(tmp_path), tmp_path, "exit 0")

    assert completed.returncode == 0, completed.stderr


def test_the_run_is_interrupted_past_its_budget(tmp_path: Path) -> None:
    interrupted = tmp_path / "interrupted"
    make = f"sleep 60 >/dev/null 2>&1 &\ntrap 'kill $!; touch {interrupted}; exit 130' INT\nwait"
    started = time.monotonic()

    completed = _run(_repository(tmp_path), tmp_path, make, KAIROS_CI_BUDGET="1s")

    assert completed.returncode == 124, completed.stderr
    assert time.monotonic() - started < 30
    assert interrupted.exists(), "make was not interrupted (pytest would not tear down)"
    assert "stopped after its budget of 1s" in completed.stderr


def test_a_shallow_clone_gets_its_whole_history_first(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    _git("clone", "--quiet", "--depth=1", f"file://{ROOT}", str(clone))
    _checkout(clone)

    completed = _run(clone, tmp_path, "exit 0")

    assert completed.returncode == 0, completed.stderr
    shallow = subprocess.run(
        ["git", "rev-parse", "--is-shallow-repository"], cwd=clone,
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert shallow == "false"
    assert _calls(tmp_path) == ["test"]


def test_a_shallow_clone_that_cannot_fetch_its_history_fails_before_testing(
    tmp_path: Path,
) -> None:
    clone = tmp_path / "clone"
    _git("clone", "--quiet", "--depth=1", f"file://{ROOT}", str(clone))
    _git("remote", "remove", "origin", cwd=clone)
    _checkout(clone)

    completed = _run(clone, tmp_path, "exit 0")

    assert completed.returncode == 1
    assert "git fetch --unshallow failed" in completed.stderr
    assert _calls(tmp_path) == [], "tested anyway, without the history"
