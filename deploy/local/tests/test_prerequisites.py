"""`make` checks what a fresh machine must provide before installing anything
(deploy/local/prerequisites.sh): each missing command is named, with what it is for and the
Debian package that provides it. Checked with `--check-only` (nothing is installed) and a PATH
that lacks them; no infrastructure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "prerequisites.sh"


def _run(path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), "--check-only"],
        env={"PATH": str(path), "HOME": os.environ.get("HOME", "/"), **environment},
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


def _bin(tmp_path: Path, *commands: str) -> Path:
    """A PATH holding only `commands` (and what the script itself runs)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for command in ("bash", "sed", "head", "id", *commands):
        found = sys.executable if command == "python3" else shutil.which(command)
        assert found is not None, f"{command} is needed to run this test"
        (folder / command).symlink_to(found)
    return folder


def _stub(folder: Path, name: str, script: str) -> None:
    (folder / name).write_text(f"#!/bin/sh\n{script}\n")
    (folder / name).chmod(0o755)


def test_this_machine_has_every_prerequisite() -> None:
    completed = subprocess.run(
        ["bash", str(SCRIPT), "--check-only"], env={**os.environ, "PYTHON": sys.executable},
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr


def test_each_missing_prerequisite_is_named_with_its_debian_package(tmp_path: Path) -> None:
    path = _bin(tmp_path)

    completed = _run(path, PYTHON="python3")

    assert completed.returncode == 1
    for what in ("python3: not found", "java: not found", "mvn: not found",
                 "openssl: not found", "git: not found", "timeout: not found",
                 "npm: not found"):  # fmt: skip
        assert what in completed.stderr, completed.stderr
    assert "python3 default-jre-headless maven openssl git coreutils npm" in completed.stderr


def test_a_python_without_venv_and_an_old_java_are_refused(tmp_path: Path) -> None:
    path = _bin(tmp_path, "mvn", "openssl", "git", "timeout", "npm", "useradd")
    # Debian's python3 without python3-venv: `import ensurepip` fails.
    _stub(path, "python3", 'case "$2" in *ensurepip*) exit 1;; esac; exit 0')
    _stub(path, "java", "echo 'openjdk version \"11.0.2\" 2019-01-15' >&2")

    completed = _run(path, PYTHON="python3")

    assert completed.returncode == 1
    assert "no venv/ensurepip module" in completed.stderr
    assert "java: version 11, 17 or later runs Kafka" in completed.stderr
    assert "python3-venv default-jre-headless" in completed.stderr


def test_java_17_and_later_are_accepted(tmp_path: Path) -> None:
    path = _bin(tmp_path, "python3", "mvn", "openssl", "git", "timeout", "npm", "useradd")
    _stub(path, "java", "echo 'openjdk version \"21.0.5\" 2024-10-15' >&2")

    completed = _run(path, PYTHON="python3")

    assert completed.returncode == 0, completed.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the packages are installed only as root")
def test_as_root_the_missing_packages_are_installed_then_checked_again(tmp_path: Path) -> None:
    path = _bin(tmp_path, "python3", "java", "openssl", "git", "timeout", "npm", "useradd", "chmod")
    calls = tmp_path / "apt-get.calls"
    # apt-get "installs" maven: the mvn command appears once `install` ran.
    _stub(
        path,
        "apt-get",
        f'echo "$@" >> {calls}\n'
        f'case "$1" in install) printf "#!/bin/sh\\n" > {path}/mvn; chmod +x {path}/mvn;; esac',
    )

    completed = subprocess.run(
        ["bash", str(SCRIPT)], env={"PATH": str(path), "PYTHON": "python3"},
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip

    assert completed.returncode == 0, completed.stderr
    assert calls.read_text().splitlines() == ["update", "install -y --no-install-recommends maven"]
    assert "mvn: not found" in completed.stderr
    assert "prerequisites installed" in completed.stderr
