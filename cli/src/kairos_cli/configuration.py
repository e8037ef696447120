"""``kairos config [SERVICE]``: each service's effective settings, read from the environment as
the service reads them, with every secret masked and the variable that sets each one."""

from __future__ import annotations

import importlib
import os
import re
from typing import Annotated, Any

import typer
from pydantic import AliasChoices, BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python
from pydantic_settings import BaseSettings

from kairos_cli.common import SERVICES, JsonOption, echo_json, fail, guarded, service_name, table

SETTINGS_CLASSES = {
    service: f"kairos_{service}.config:{service.capitalize()}Settings" for service in SERVICES
}
MASK = "***"
_SENSITIVE_NAME = re.compile(
    r"(^|_)(password|passwd|passphrase|secret|token|key|keys|pem|credentials?|auth|authorization|headers)(_|$)"
)
# Linear: the scheme starts after a non-scheme character, every repetition is possessive and the
# password stops at "/" (user information never holds one, RFC 3986 §3.2.1).
_URL_PASSWORD = re.compile(
    r"(?<![A-Za-z0-9+.-])(?P<prefix>[A-Za-z][A-Za-z0-9+.-]*+://[^\s/:@]*+:)[^\s@/]*+@"
)


def settings_class(service: str) -> type[BaseSettings]:
    module_name, _, class_name = SETTINGS_CLASSES[service_name(service)].partition(":")
    found: type[BaseSettings] = getattr(importlib.import_module(module_name), class_name)
    return found


def env_name(model: type[BaseModel], name: str, field: FieldInfo) -> str:
    """The environment variable that sets field ``name`` of ``model``."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        first = next((choice for choice in alias.choices if isinstance(choice, str)), None)
        if first is not None:
            return first
    if isinstance(alias, str):
        return alias
    prefix = str(model.model_config.get("env_prefix", ""))
    return f"{prefix}{name}".upper()


def load_settings(service: str) -> BaseSettings:
    """The service's settings as it would read them; invalid ones fail naming the variable."""
    model = settings_class(service)
    try:
        return model()
    except ValidationError as error:
        names = {name: env_name(model, name, f) for name, f in model.model_fields.items()}
        problems = []
        for item in error.errors():
            where = str(item["loc"][0]) if item["loc"] else "?"
            problems.append(f"  {names.get(where, where)}: {mask_text(item['msg'])}")
        fail(f"the {service} settings are invalid:\n" + "\n".join(problems))


def mask_text(text: str) -> str:
    """``text`` with the password of every URL in it replaced."""
    return _URL_PASSWORD.sub(lambda match: f"{match.group('prefix')}{MASK}@", text)


def is_sensitive(name: str) -> bool:
    return bool(_SENSITIVE_NAME.search(name.lower()))


def display_value(name: str, value: Any) -> Any:
    """What may be shown of field ``name``'s ``value``: secrets masked, the rest as JSON."""
    secret = isinstance(value, SecretStr) or is_sensitive(name)
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if raw is None:
        return None
    if isinstance(raw, str) and "://" in raw and not any(c.isspace() for c in raw.strip()):
        # A URL is an address: shown without its password (and, when the setting is a secret,
        # without a query or fragment, which could carry a token).
        masked = mask_text(raw)
        if secret:
            address = re.split(r"[?#]", masked, maxsplit=1)[0]
            return address if address == masked else f"{address}?{MASK}"
        return masked
    if secret:
        return MASK
    shown = to_jsonable_python(raw)
    return mask_text(shown) if isinstance(shown, str) else shown


def describe(service: str) -> list[dict[str, Any]]:
    """One entry per setting: its name, variable, shown value and whether the environment set
    it (``env``) or it is the default."""
    settings = load_settings(service)
    model = type(settings)
    environment = {name.upper() for name in os.environ}
    entries = []
    for name, field in model.model_fields.items():
        variable = env_name(model, name, field)
        entries.append({
            "setting": name,
            "env": variable,
            "value": display_value(name, getattr(settings, name)),
            "source": "env" if variable.upper() in environment else "default",
        })  # fmt: skip
    return entries


def _text(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, str):
        return value
    return str(to_jsonable_python(value))


@guarded
def config(
    service: Annotated[
        str | None, typer.Argument(help=f"One of {', '.join(SERVICES)} (default: all).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print each service's effective configuration, secrets masked, with its variables."""
    services = [service_name(service)] if service else list(SERVICES)
    described = {name: describe(name) for name in services}
    if as_json:
        echo_json(described)
        return
    for name, entries in described.items():
        typer.echo(f"{name} ({SETTINGS_CLASSES[name].rpartition(':')[2]})")
        rows = [[e["setting"], _text(e["value"]), e["env"], e["source"]] for e in entries]
        typer.echo(table(rows, ["setting", "value", "variable", "from"]))
        typer.echo("")
