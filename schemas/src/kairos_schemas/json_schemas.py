"""The published JSON Schema (draft 2020-12) of an event type's data.

It is pydantic's validation schema of the event class, identified by the same relative URI as
the events' `dataschema` attribute, titled with the class name and described by its docstring.

`"additionalProperties": false`, which pydantic writes for every `extra="forbid"` model, is
removed, at the top level and in nested models alike: consumers must ignore fields they do not
know yet (a newer producer may add optional ones, the one compatible change), exactly as
`parse_event` does. A consumer validating with the published schema must therefore not reject
an event of a newer minor revision. Producers stay strict: their pydantic models still forbid
unknown fields.
"""

import inspect
import json
from typing import Any

from kairos_schemas.events import Event, schema_uri

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def event_json_schema(event_class: type[Event]) -> dict[str, Any]:
    """The JSON Schema of one event type, as a dict."""
    schema = event_class.model_json_schema(mode="validation")
    _open_objects(schema)
    schema["$schema"] = DIALECT
    schema["$id"] = schema_uri(event_class.event_type)
    schema["title"] = event_class.__name__
    schema["description"] = describe(event_class)
    return schema


def describe(event_class: type[Event]) -> str:
    """The class docstring, dedented: what integrators read about the event."""
    return inspect.cleandoc(event_class.__doc__ or "")


def render_json_schema(event_class: type[Event]) -> str:
    """The file's text: sorted keys, two-space indent, a trailing newline (stable diffs)."""
    return (
        json.dumps(event_json_schema(event_class), indent=2, sort_keys=True, ensure_ascii=False)
        + "\n"
    )


def _open_objects(node: object) -> None:
    """Drop every `"additionalProperties": false` (see the module's docstring for why)."""
    if isinstance(node, list):
        for item in node:
            _open_objects(item)
    elif isinstance(node, dict):
        if node.get("additionalProperties") is False:
            del node["additionalProperties"]
        for value in node.values():
            _open_objects(value)
