"""services/<name>/Dockerfile: a small, non-root, cache-friendly image per service.

Static checks only (no Docker engine needed): each Dockerfile is parsed, never built.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PORTS = {"identity": 8001, "habilitation": 8002, "declaration": 8003, "notification": 8004}
BASE = "python:3.11-slim"

Instruction = tuple[str, str]  # (INSTRUCTION, arguments), continuation lines joined


def _instructions(name: str) -> list[Instruction]:
    text = (ROOT / "services" / name / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    logical = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [
        (keyword.upper(), args.strip())
        for keyword, _, args in (line.strip().partition(" ") for line in logical.splitlines())
        if keyword
    ]


def _final_stage(name: str) -> list[Instruction]:
    instructions = _instructions(name)
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def _index(instructions: list[Instruction], keyword: str, needle: str) -> int:
    for i, (kw, args) in enumerate(instructions):
        if kw == keyword and needle in args:
            return i
    raise AssertionError(f"no {keyword} containing {needle!r}")


def _workspace_pyprojects() -> list[str]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    members = root["tool"]["uv"]["workspace"]["members"]
    found = {p for member in members for p in ROOT.glob(f"{member}/pyproject.toml")}
    return sorted(str(p.relative_to(ROOT)) for p in found)


@pytest.mark.parametrize("name", PORTS)
def test_is_multi_stage_on_python_slim(name: str) -> None:
    bases = [args.split()[0] for keyword, args in _instructions(name) if keyword == "FROM"]
    assert len(bases) >= 2, f"{name}: Dockerfile is not multi-stage (FROM {bases})"
    assert set(bases) == {BASE}, f"{name}: stages are based on {bases}, not {BASE}"
    copies_from = [args for kw, args in _final_stage(name) if kw == "COPY" and "--from=" in args]
    assert copies_from, f"{name}: the runtime stage copies nothing from the builder"


@pytest.mark.parametrize("name", PORTS)
def test_dependencies_are_a_layer_before_the_source(name: str) -> None:
    instructions = _instructions(name)
    first_sync = _index(instructions, "RUN", "uv sync")
    sync = instructions[first_sync][1]
    for flag in ("--frozen", "--no-dev", "--no-install-workspace", f"--package kairos-{name}"):
        assert flag in sync, f"{name}: the dependency layer's uv sync lacks {flag}"
    source_copy = _index(instructions, "COPY", f"services/{name}/ ")
    assert source_copy > first_sync, f"{name}: the source is copied before the dependency layer"
    copied_before = " ".join(args for kw, args in instructions[:first_sync] if kw == "COPY")
    for pyproject in ["uv.lock", *_workspace_pyprojects()]:
        assert pyproject in copied_before, f"{name}: {pyproject} is not copied before uv sync"
    install = instructions[_index(instructions, "RUN", "--no-editable")][1]
    assert "uv sync --frozen --no-dev" in install, f"{name}: the install is not a locked uv sync"
    assert f"--package kairos-{name}" in install, f"{name}: installs another package: {install}"
    assert "uv==" in instructions[_index(instructions, "RUN", "pip install")][1], (
        f"{name}: uv unpinned"
    )


@pytest.mark.parametrize(("name", "port"), PORTS.items())
def test_runtime_stage(name: str, port: int) -> None:
    final = _final_stage(name)
    users = [args for keyword, args in final if keyword == "USER"]
    assert users, f"{name}: the runtime stage sets no USER, so it runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}, f"{name}: runs as {users[-1]}"
    env = " ".join(args for keyword, args in final if keyword == "ENV")
    assert f"KAIROS_{name.upper()}_HTTP_HOST=0.0.0.0" in env, f"{name}: HTTP not on 0.0.0.0"
    exposed = [args.split() for keyword, args in final if keyword == "EXPOSE"]
    assert [str(port)] in exposed, f"{name}: EXPOSE {exposed}, expected {port}"
    healthchecks = [args for keyword, args in final if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1, f"{name}: expected one HEALTHCHECK, found {len(healthchecks)}"
    assert f"http://127.0.0.1:{port}/health/ready" in healthchecks[0], (
        f"{name}: HEALTHCHECK does not probe /health/ready on port {port}: {healthchecks[0]}"
    )
    entrypoints = [json.loads(args) for keyword, args in final if keyword == "ENTRYPOINT"]
    expected = ["python", "-m", f"kairos_{name}"]
    assert entrypoints == [expected], f"{name}: ENTRYPOINT is {entrypoints}, expected {expected}"


def _dockerignore() -> list[str]:
    text = (ROOT / ".dockerignore").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] not in "#!"]


@pytest.mark.parametrize("name", PORTS)
def test_every_copied_path_exists_and_is_in_the_build_context(name: str) -> None:
    patterns = _dockerignore()
    for keyword, args in _instructions(name):
        if keyword != "COPY" or "--from=" in args:
            continue
        *sources, _ = [arg for arg in args.split() if not arg.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), f"{name}: COPY {source}: no such path in the repo"
            path = Path(source.rstrip("/"))
            for part in [path, *path.parents][:-1]:
                ignored = [p for p in patterns if fnmatch.fnmatchcase(str(part), p.rstrip("/"))]
                assert not ignored, f"{name}: COPY {source}, but .dockerignore drops it: {ignored}"


def test_dockerfiles_are_parallel() -> None:
    """Only the service name and port may differ between the four Dockerfiles."""

    def normalised(name: str) -> list[str]:
        text = (ROOT / "services" / name / "Dockerfile").read_text(encoding="utf-8")
        # Every member's pyproject is copied by every Dockerfile (checked above): not a difference.
        text = re.sub(r"(?m)^COPY services/\w+/pyproject\.toml .*\n", "", text)
        for old, new in ((name.upper(), "<NAME>"), (name, "<name>"), (str(PORTS[name]), "<port>")):
            text = text.replace(old, new)
        return text.splitlines()

    reference = normalised("identity")
    for name in PORTS:
        diff = list(difflib.unified_diff(reference, normalised(name), "identity", name, n=0))
        assert not diff, f"{name}'s Dockerfile differs from identity's beyond name/port: {diff}"


@pytest.mark.parametrize("name", PORTS)
def test_the_entrypoint_runs_from_the_built_wheel_with_its_migrations(
    name: str, tmp_path: Path
) -> None:
    """What the image installs is the service's wheel (`--no-editable`): built here with the
    same backend, its `python -m kairos_<name>` module and SQL migrations are in it and import
    from it, not from the source tree."""
    uv = ROOT / ".tools" / "bin" / "uv"
    subprocess.run(
        [str(uv), "build", "--wheel", "--package", f"kairos-{name}", "-o", str(tmp_path), "-q"],
        cwd=ROOT, check=True, timeout=300,
    )  # fmt: skip
    [wheel] = tmp_path.glob(f"kairos_{name}-*.whl")
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
    probe = (
        f"import kairos_{name}.__main__ as entry, kairos_{name}.bootstrap as boot; "
        "print(entry.__file__); print(sorted(p.name for p in boot.MIGRATIONS.glob('*.sql')))"
    )
    env = {**os.environ, "PYTHONPATH": str(installed)}
    shown = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120,
        check=True,
    ).stdout.splitlines()  # fmt: skip
    assert Path(shown[0]).is_relative_to(installed), f"{name}: imported from {shown[0]}"
    source = ROOT / "services" / name / "src" / f"kairos_{name}" / "migrations"
    assert shown[1] == repr(sorted(p.name for p in source.glob("*.sql")))
    assert shown[1] != "[]"
