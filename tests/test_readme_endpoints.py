"""The README's endpoint tables (who may call what) list every endpoint each service serves,
and nothing that does not exist: they are the contract OF staff, operators and integrators read."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from kairos_declaration.bootstrap import create_app as declaration_app
from kairos_declaration.config import DeclarationSettings
from kairos_habilitation.bootstrap import create_app as habilitation_app
from kairos_habilitation.config import HabilitationSettings
from kairos_notification.bootstrap import create_app as notification_app
from kairos_notification.config import NotificationSettings

README = Path(__file__).parents[1] / "README.md"
ROW = re.compile(r"^\| `(GET|POST|PUT|DELETE|PATCH) (/v1/[^`?]+)(?:\?[^`]*)?`")
UNUSED_DATABASE = "postgresql://unused@127.0.0.1/unused"
SERVICES: dict[str, Callable[[], FastAPI]] = {
    "habilitation (port 8002)": lambda: habilitation_app(
        HabilitationSettings(database_url=UNUSED_DATABASE)
    ),
    "declaration (port 8003)": lambda: declaration_app(
        DeclarationSettings(database_url=UNUSED_DATABASE)
    ),
    "notification (port 8004)": lambda: notification_app(
        NotificationSettings(database_url=UNUSED_DATABASE)
    ),
}


def _normalised(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _documented(section_title: str) -> set[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split(f"### {section_title}", 1)[1].split("\n### ", 1)[0]
    return {(m[1], _normalised(m[2])) for line in section.splitlines() if (m := ROW.match(line))}


def _served(app: FastAPI) -> set[tuple[str, str]]:
    paths: dict[str, Any] = app.openapi()["paths"]
    return {
        (method.upper(), _normalised(path))
        for path, operations in paths.items()
        if path.startswith("/v1/")
        for method in operations
    }


@pytest.mark.parametrize("section", SERVICES)
def test_every_endpoint_is_in_the_readme_table_and_only_those(section: str) -> None:
    documented = _documented(section)
    assert documented, f"no endpoint table under '### {section}'"
    assert documented == _served(SERVICES[section]())
