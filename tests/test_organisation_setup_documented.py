"""Every operation where a caller's own organisation may not be known yet (validated a moment
ago, its event still on its way) documents the 503 ``organisation-being-set-up`` answer with
its ``Retry-After`` header in the service's OpenAPI document; operator-only operations (an
unknown organisation is a 404 for operators) do not. Static: no service is started."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI

from kairos_declaration.bootstrap import create_app as declaration_app
from kairos_declaration.config import DeclarationSettings
from kairos_habilitation.bootstrap import create_app as habilitation_app
from kairos_habilitation.config import HabilitationSettings
from kairos_notification.bootstrap import create_app as notification_app
from kairos_notification.config import NotificationSettings

UNUSED_DATABASE = "postgresql://unused@127.0.0.1/unused"
ORG = "/v1/organisations/{organisation_id}"
OPERATORS_ONLY = {
    ("GET", f"{ORG}/habilitations/unjustified"),
    ("GET", f"{ORG}/habilitation-flags"),
    ("POST", f"{ORG}/demands"),
    ("POST", f"{ORG}/reviews"),
}
APPS: dict[str, Callable[[], FastAPI]] = {
    "habilitation": lambda: habilitation_app(HabilitationSettings(database_url=UNUSED_DATABASE)),
    "declaration": lambda: declaration_app(DeclarationSettings(database_url=UNUSED_DATABASE)),
    "notification": lambda: notification_app(NotificationSettings(database_url=UNUSED_DATABASE)),
}


@pytest.mark.parametrize("service", sorted(APPS))
def test_operations_on_an_organisation_document_the_503(service: str) -> None:
    document = APPS[service]().openapi()
    on_an_organisation = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if path.startswith(f"{ORG}/")
        for method in operations
    } - OPERATORS_ONLY
    documenting = {
        (method.upper(), path): operation["responses"]["503"]
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "503" in operation["responses"]
    }

    assert on_an_organisation
    assert set(documenting) == on_an_organisation
    for response in documenting.values():
        assert "organisation-being-set-up" in response["description"]
        assert "Retry-After" in response["headers"]
        assert "application/problem+json" in response["content"]
