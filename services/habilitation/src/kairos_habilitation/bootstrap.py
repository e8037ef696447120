"""The one place that wires the habilitation service."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI

from kairos_habilitation.config import HabilitationSettings
from kairos_shared.kafka import make_broker
from kairos_shared.runtime import create_service_app

MIGRATIONS = Path(str(files("kairos_habilitation") / "migrations"))


def create_app(settings: HabilitationSettings | None = None) -> FastAPI:
    settings = settings or HabilitationSettings()
    broker = make_broker(settings.kafka_bootstrap_servers, client_id=settings.service_name)
    return create_service_app(
        settings,
        title="Kairos habilitation service",
        migrations_dir=MIGRATIONS,
        broker=broker,
    )
