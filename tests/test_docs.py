"""The guides under `docs/` stay true to the code: every `/v1/...` path they mention is served
(by the service of the port a URL names, with the method a request names), every event type and
class the integrators' guide names exists in `kairos_schemas` (its table of the declaration
topic's types is complete and exact), and every repository path they mention exists.

The apps are built as `tests/test_readme_endpoints.py` builds them: `create_app(settings)`,
never started (no database, no Kafka)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiokafka
import aiokafka.errors
import pytest
from fastapi import FastAPI

import kairos_schemas
from kairos_declaration.bootstrap import create_app as declaration_app
from kairos_declaration.config import DeclarationSettings
from kairos_habilitation.bootstrap import create_app as habilitation_app
from kairos_habilitation.config import HabilitationSettings
from kairos_identity.bootstrap import create_app as identity_app
from kairos_identity.config import IdentitySettings
from kairos_notification.bootstrap import create_app as notification_app
from kairos_notification.config import NotificationSettings
from kairos_schemas import declaration, registered_events, schema_uri

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
INTEGRATORS = DOCS / "integrators.md"
GUIDES = [INTEGRATORS, DOCS / "of-staff.md"]
UNUSED_DATABASE = "postgresql://unused@127.0.0.1/unused"
APPS: dict[str, Callable[[], FastAPI]] = {
    "identity": lambda: identity_app(IdentitySettings(database_url=UNUSED_DATABASE)),
    "habilitation": lambda: habilitation_app(HabilitationSettings(database_url=UNUSED_DATABASE)),
    "declaration": lambda: declaration_app(DeclarationSettings(database_url=UNUSED_DATABASE)),
    "notification": lambda: notification_app(NotificationSettings(database_url=UNUSED_DATABASE)),
}
PORTS = {"8001": "identity", "8002": "habilitation", "8003": "declaration", "8004": "notification"}
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")

# A path: `/v1/` up to a space, a quote, a query string or closing punctuation.
PATH = r"/v1/[^\s`'\"?)\]|,;]*"
URL = re.compile(rf"http://127\.0\.0\.1:(?P<port>\d+)(?P<path>{PATH})")
MENTION = re.compile(rf"(?<![\w:/.])(?P<path>{PATH})")
REQUEST = re.compile(rf"\b(?P<method>{'|'.join(METHODS)}) `?(?P<path>{PATH})")
# Placeholders in a documented path: {org}, <org>, $ORG, ${ORG}.
PLACEHOLDER = re.compile(r"\{[^}/]*\}|<[^>/]*>|\$\{?\w+\}?")
EVENT_TYPE = re.compile(r"fr\.kairos\.[a-z0-9-]+(?:\.[a-z0-9-]+)*?\.v[0-9]+(?![\w-])")
CLASS_NAME = re.compile(r"`([A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+)`")
TYPE_ROW = re.compile(r"^\| `(fr\.kairos\.[^`]+)` \| `(\w+)` \| `([^`]+)` \|", re.MULTILINE)
TOP_FOLDERS = "schemas|shared|services|deploy|examples|tests|docs|cli|bench"
REPO_PATH = re.compile(rf"(?<![\w./-])((?:{TOP_FOLDERS})/[\w.*/-]*[\w*])")


def guides() -> list[Path]:
    """The two guides this test was written with, and any other guide since (operators.md)."""
    return sorted({*GUIDES, *DOCS.glob("*.md")})


@functools.cache
def routes() -> dict[str, frozenset[tuple[str, str]]]:
    """Each service's (method, path template) of its `/v1/` API."""
    served = {}
    for service, build in APPS.items():
        paths: dict[str, Any] = build().openapi()["paths"]
        served[service] = frozenset(
            (method.upper(), path)
            for path, operations in paths.items()
            if path.startswith("/v1/")
            for method in operations
        )
    return served


def _template(path: str) -> re.Pattern[str]:
    """A route's template as a pattern: each `{parameter}` takes one segment."""
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def _normalised(path: str) -> str:
    """A documented path with its placeholders as `{}` and without a trailing full stop."""
    return PLACEHOLDER.sub("{}", path.rstrip("."))


def served_by(path: str, method: str | None = None, service: str | None = None) -> bool:
    """Whether a documented path (placeholders in parameter positions only) is a route."""
    wanted = _normalised(path)
    return any(
        _template(template).fullmatch(wanted)
        for name, served in routes().items()
        if service is None or name == service
        for verb, template in served
        if method is None or verb == method
    )


def _commands(text: str) -> Iterator[str]:
    """The `curl` commands of the guide's code blocks, continuation lines joined."""
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.DOTALL):
        for command in block.replace("\\\n", " ").splitlines():
            if command.lstrip().startswith("curl "):
                yield command


def _curl_method(command: str) -> str:
    explicit = re.search(r"-X (\w+)", command)
    if explicit is not None:
        return explicit[1]
    return "POST" if re.search(r" (-d|--data[\w-]*) ", command) else "GET"


@pytest.mark.parametrize("guide", guides(), ids=lambda p: p.name)
def test_every_path_mentioned_is_served(guide: Path) -> None:
    text = guide.read_text(encoding="utf-8")
    mentioned = {m["path"] for m in (*MENTION.finditer(text), *URL.finditer(text))}
    assert [p for p in sorted(mentioned) if not served_by(p)] == []


def test_the_checks_see_what_the_staff_guide_shows() -> None:
    """The patterns find the paths, requests and curl commands (no check passes vacuously)."""
    text = (DOCS / "of-staff.md").read_text(encoding="utf-8")
    assert len({m["path"] for m in MENTION.finditer(text)}) >= 20
    assert len(list(REQUEST.finditer(text))) >= 10
    assert len([c for c in _commands(text) if URL.search(c)]) >= 20
    assert not served_by("/v1/organisations/{}/entrees")
    assert not served_by("/v1/sessions", method="GET")
    assert not served_by("/v1/organisations/$ORG/entries", service="identity")
    assert served_by("/v1/organisations/$ORG/entries", method="POST", service="declaration")


@pytest.mark.parametrize("guide", guides(), ids=lambda p: p.name)
def test_every_request_uses_the_method_and_service_that_serve_it(guide: Path) -> None:
    text = guide.read_text(encoding="utf-8")
    wrong = [
        f"{m['method']} {m['path']}"
        for m in REQUEST.finditer(text)
        if not served_by(m["path"], method=m["method"])
    ]
    for url in URL.finditer(text):
        service = PORTS.get(url["port"])
        if service is None or not served_by(url["path"], service=service):
            wrong.append(f"port {url['port']}: {url['path']}")
    for command in _commands(text):
        for url in URL.finditer(command):
            method = _curl_method(command)
            if not served_by(url["path"], method=method, service=PORTS.get(url["port"])):
                wrong.append(f"curl {method} {url['port']}{url['path']}")
    assert wrong == []


def test_every_event_type_named_for_integrators_exists() -> None:
    text = INTEGRATORS.read_text(encoding="utf-8")
    known = {event.event_type for event in registered_events()}
    named = set(EVENT_TYPE.findall(text))
    assert named
    assert sorted(named - known) == []


def test_every_class_named_for_integrators_exists() -> None:
    """Backticked CamelCase names are event classes, or names `kairos_schemas` and aiokafka
    export (the envelope, the consumer, their errors)."""
    text = INTEGRATORS.read_text(encoding="utf-8")
    known = {event.__name__ for event in registered_events()}
    known |= {name for name in dir(kairos_schemas) if not name.startswith("_")}
    known |= {name for name in dir(aiokafka) if not name.startswith("_")}
    known |= {name for name in dir(aiokafka.errors) if not name.startswith("_")}
    assert sorted(set(CLASS_NAME.findall(text)) - known) == []


def test_the_integrators_type_table_is_exact_and_complete() -> None:
    """One row per type of the declaration topic: its class and its JSON Schema file."""
    text = INTEGRATORS.read_text(encoding="utf-8")
    rows = {event_type: (cls, schema) for event_type, cls, schema in TYPE_ROW.findall(text)}
    expected = {
        event.event_type: (event.__name__, schema_uri(event.event_type))
        for event in registered_events(declaration.TOPIC)
    }
    assert rows == expected


@pytest.mark.parametrize("guide", guides(), ids=lambda p: p.name)
def test_every_repository_path_mentioned_exists(guide: Path) -> None:
    # `kubectl … deploy/<name>` names a Kubernetes Deployment, not a folder of this repository.
    text = re.sub(r"\bdeploy/kairos-\w+", "", guide.read_text(encoding="utf-8"))
    mentioned = set(REPO_PATH.findall(text))
    missing = [
        path
        for path in sorted(mentioned)
        if not (any(ROOT.glob(path)) if "*" in path else (ROOT / path).exists())
    ]
    assert missing == []


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_schema_file_mentioned_exists(guide: Path) -> None:
    """The JSON Schema and AsyncAPI files named, each one (not only its folder)."""
    text = guide.read_text(encoding="utf-8")
    named = set(re.findall(r"schemas/(?:jsonschema/[\w.-]+\.json|asyncapi\.yaml)", text))
    assert [path for path in sorted(named) if not (ROOT / path).is_file()] == []
