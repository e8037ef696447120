""".env.example documents every setting of every service, nothing else, with true defaults.

The valid names are derived from the services' settings classes
(:mod:`kairos_devstack.settings_names`), so a setting added to a class fails here until it is
documented, and a typo in the file fails as an unknown name. Static checks: nothing is started.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import pytest
import yaml

from kairos_devstack.settings_names import all_env_names, classes_reading, env_names

ROOT = Path(__file__).resolve().parents[1]
ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE = ROOT / "docker-compose.yml"

_ASSIGNMENT = re.compile(r"^(?P<comment># )?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")
_LOOSE_ASSIGNMENT = re.compile(r"^#?\s*[A-Z][A-Z0-9_]*=")
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, and bare $VAR ($$ is a literal $).
_COMPOSE_VARIABLE = re.compile(
    r"(?<!\$)\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<default>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


@functools.cache
def _lines() -> tuple[str, ...]:
    return tuple(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines())


@functools.cache
def _documented() -> dict[str, tuple[int, bool, str]]:
    """name -> (line index, commented out, value)."""
    found: dict[str, tuple[int, bool, str]] = {}
    for index, line in enumerate(_lines()):
        match = _ASSIGNMENT.match(line)
        if match is None:
            continue
        name = match["name"]
        assert name not in found, f".env.example names {name} twice (lines {found[name][0] + 1})"
        found[name] = (index, match["comment"] is not None, match["value"])
    return found


def _strings(node: object) -> list[str]:
    """Every string value of a parsed YAML document (compose substitutes in values, not in
    comments)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


@functools.cache
def _compose_variables() -> dict[str, set[str]]:
    """Each variable docker-compose.yml substitutes -> the defaults it gives it (`:-x`)."""
    variables: dict[str, set[str]] = {}
    text = "\n".join(_strings(yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))))
    for match in _COMPOSE_VARIABLE.finditer(text):
        name = match["braced"] or match["bare"]
        defaults = variables.setdefault(name, set())
        if match["op"] in {":-", "-"}:
            defaults.add(match["default"])
    return variables


def test_the_file_parses() -> None:
    assert _documented(), ".env.example documents no variable"
    malformed = [
        f"line {index + 1}: {line!r}"
        for index, line in enumerate(_lines())
        if _LOOSE_ASSIGNMENT.match(line) and not _ASSIGNMENT.match(line)
    ]
    assert not malformed, f"write NAME=value or '# NAME=value' (one space): {malformed}"


def test_every_setting_of_every_service_is_documented() -> None:
    missing = sorted(all_env_names() - set(_documented()))
    assert not missing, f".env.example does not document {missing}"


def test_nothing_unknown_is_documented() -> None:
    known = all_env_names() | set(_compose_variables())
    unknown = sorted(set(_documented()) - known)
    assert not unknown, (
        f".env.example names {unknown}: no service reads them and docker-compose.yml does not"
        " use them (a typo?)"
    )


def test_every_compose_variable_is_documented() -> None:
    assert "POSTGRES_PASSWORD" in _compose_variables(), "the compose file's variables not found"
    missing = sorted(set(_compose_variables()) - set(_documented()))
    assert not missing, f"docker-compose.yml uses {missing}, which .env.example does not document"


def test_compose_defaults_are_the_documented_values() -> None:
    """For the compose file's own variables (not services' settings, whose compose value may
    differ from the service's default), the commented value is what compose falls back to."""
    for name, defaults in _compose_variables().items():
        if name in all_env_names():
            continue
        _, commented, value = _documented()[name]
        if commented:
            assert defaults <= {value}, (
                f"{name}: compose defaults to {defaults}, .env.example {value}"
            )


@pytest.mark.parametrize("name", sorted(all_env_names()))
def test_each_variable_has_a_comment_giving_its_default(name: str) -> None:
    if name not in _documented():
        pytest.skip(f"{name} is not documented yet: see the test above")
    index, _, _ = _documented()[name]
    block: list[str] = []
    for line in reversed(_lines()[:index]):
        if not line.startswith("#") or _ASSIGNMENT.match(line):
            break
        block.append(line)
    text = " ".join(line.lstrip("# ") for line in block)
    assert len(text) > 20, f"{name}: no comment saying what it does right above it"
    assert "Default" in text, f"{name}: its comment does not give its default ('Default: ...')"


def _settings_cases() -> list[tuple[str, str]]:
    return [
        (name, cls.__name__) for name in sorted(all_env_names()) for cls in classes_reading(name)
    ]


@pytest.mark.parametrize(("name", "settings_class"), _settings_cases())
def test_a_commented_value_is_the_default(
    name: str, settings_class: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`# NAME=value` claims the default is value: loading it must give the default; an empty
    `# NAME=` claims the setting is unset by default."""
    if name not in _documented():
        pytest.skip(f"{name} is not documented: see the test above")
    _, commented, value = _documented()[name]
    if not commented:
        return
    cls = next(c for c in classes_reading(name) if c.__name__ == settings_class)
    field = env_names(cls)[name]
    for variable in list(os.environ):
        if variable.startswith("KAIROS_"):
            monkeypatch.delenv(variable)
    default = getattr(cls(), field)
    if value == "":
        assert default is None, f"{name}: '# {name}=' says unset, but the default is {default!r}"
        return
    monkeypatch.setenv(name, value)
    loaded = getattr(cls(), field)
    assert loaded == default, (
        f"{name}: .env.example shows {value!r} as the default, which loads as {loaded!r};"
        f" the default is {default!r}"
    )
