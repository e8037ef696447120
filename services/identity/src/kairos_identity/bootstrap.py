"""The one place that wires the identity service."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI

from kairos_identity.config import IdentitySettings
from kairos_shared.kafka import make_broker
from kairos_shared.runtime import create_service_app

MIGRATIONS = Path(str(files("kairos_identity") / "migrations"))


def create_app(settings: IdentitySettings | None = None) -> FastAPI:
    settings = settings or IdentitySettings()
    broker = make_broker(settings.kafka_bootstrap_servers, client_id=settings.service_name)
    return create_service_app(
        settings,
        title="Kairos identity service",
        migrations_dir=MIGRATIONS,
        broker=broker,
    )
