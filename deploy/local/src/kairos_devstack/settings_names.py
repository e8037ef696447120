"""The environment variables each service reads, derived from its pydantic-settings classes.

One derivation for every check that a deployment file names real settings (``.env.example``,
the Kubernetes ConfigMaps and Secrets): a field read through ``AliasChoices`` is read under
those names only (the shared ``KAIROS_KAFKA_BOOTSTRAP_SERVERS``, ``KAIROS_LOG_LEVEL`` …); any
other field under the class's ``env_prefix`` + its name, upper-cased (pydantic-settings matches
names case-insensitively; upper case is how they are written).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices, AliasPath
from pydantic_settings import BaseSettings

from kairos_declaration.config import DeclarationSettings
from kairos_habilitation.config import HabilitationSettings
from kairos_identity.config import IdentitySettings
from kairos_notification.config import NotificationSettings
from kairos_portal.config import PortalSettings
from kairos_shared.access_hours import AccessHoursSettings

SettingsClass = type[BaseSettings]

#: Every settings class a service loads at start, its own first. The opening hours (K4) are read
#: by the services that decide who may act when (each one's ``bootstrap.py``).
SERVICE_SETTINGS: Mapping[str, tuple[SettingsClass, ...]] = {
    "identity": (IdentitySettings, AccessHoursSettings),
    "habilitation": (HabilitationSettings, AccessHoursSettings),
    "declaration": (DeclarationSettings, AccessHoursSettings),
    "notification": (NotificationSettings,),
    "portal": (PortalSettings,),
}


def field_env_names(settings: SettingsClass, field: str) -> tuple[str, ...]:
    """The variables one field of ``settings`` is read from."""
    info = settings.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        names = [choice for choice in alias.choices if isinstance(choice, str)]
        if len(names) != len(alias.choices):
            raise TypeError(f"{settings.__name__}.{field}: an AliasPath is no variable name")
        return tuple(name.upper() for name in names)
    if isinstance(alias, AliasPath):
        raise TypeError(f"{settings.__name__}.{field}: an AliasPath is no variable name")
    if isinstance(alias, str):
        return (alias.upper(),)
    prefix: Any = settings.model_config.get("env_prefix", "")
    return (f"{prefix}{field}".upper(),)


def env_names(settings: SettingsClass) -> dict[str, str]:
    """Variable -> field name, for every field of ``settings``."""
    return {
        name: field for field in settings.model_fields for name in field_env_names(settings, field)
    }


def service_env_names(service: str) -> frozenset[str]:
    """Every variable ``service`` reads."""
    return frozenset(name for cls in SERVICE_SETTINGS[service] for name in env_names(cls))


def all_env_names() -> frozenset[str]:
    """Every variable any service reads."""
    return frozenset(name for service in SERVICE_SETTINGS for name in service_env_names(service))


def classes_reading(name: str) -> list[SettingsClass]:
    """The settings classes that read variable ``name`` (one per service for a shared one)."""
    found: dict[SettingsClass, None] = {}
    for classes in SERVICE_SETTINGS.values():
        for cls in classes:
            if name in env_names(cls):
                found[cls] = None
    return list(found)
