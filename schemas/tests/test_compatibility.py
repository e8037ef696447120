"""A published schema only evolves compatibly: one test per rule, allowed and breaking."""

from copy import deepcopy
from typing import Any, ClassVar, Literal

import pytest

from kairos_schemas import ContractModel, Event, EventRegistry, breaking_changes
from kairos_schemas.json_schemas import event_json_schema

Schema = dict[str, Any]

INTEGER: Schema = {"type": "integer"}
TEXT: Schema = {"type": "string"}
NULLABLE_TEXT: Schema = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}


def payload(
    properties: Schema, required: tuple[str, ...] = (), *, defs: Schema | None = None, **extra: Any
) -> Schema:
    """An event payload schema as pydantic writes it (`defs` are its `$defs`)."""
    schema = {
        "$id": "schemas/jsonschema/fr.kairos.identity.test-only.v1.json",
        "title": "Sample",
        "type": "object",
        "properties": properties,
        "required": list(required),
        **extra,
    }
    return schema if defs is None else schema | {"$defs": defs}


def signatory(properties: Schema, required: tuple[str, ...]) -> Schema:
    """A payload whose `signed_by` is a nested model in `$defs`."""
    nested = {"type": "object", "properties": properties, "required": list(required)}
    return payload(
        {"signed_by": {"$ref": "#/$defs/Signatory"}}, ("signed_by",), defs={"Signatory": nested}
    )


# Allowed evolutions.


def test_an_identical_schema_is_compatible() -> None:
    schema = payload({"hours": INTEGER}, ("hours",))

    assert breaking_changes(schema, deepcopy(schema)) == []


def test_adding_an_optional_property_is_allowed() -> None:
    old = payload({"hours": INTEGER}, ("hours",))
    new = payload({"hours": INTEGER, "reason": NULLABLE_TEXT}, ("hours",))

    assert breaking_changes(old, new) == []


def test_widening_an_enum_is_allowed() -> None:
    old = payload({"kind": {"type": "string", "enum": ["entry", "exit"]}})
    new = payload({"kind": {"type": "string", "enum": ["entry", "exit", "interruption"]}})

    assert breaking_changes(old, new) == []


def test_a_const_becoming_a_wider_enum_is_allowed() -> None:
    old = payload({"kind": {"type": "string", "const": "entry"}})
    new = payload({"kind": {"type": "string", "enum": ["entry", "exit"]}})

    assert breaking_changes(old, new) == []


def test_making_a_required_property_optional_is_allowed() -> None:
    old = payload({"reason": TEXT}, ("reason",))
    new = payload({"reason": NULLABLE_TEXT})

    assert breaking_changes(old, new) == []


def test_accepting_null_or_a_wider_number_is_allowed() -> None:
    old = payload({"reason": TEXT, "hours": INTEGER})
    new = payload({"reason": NULLABLE_TEXT, "hours": {"type": "number"}})

    assert breaking_changes(old, new) == []


def test_changing_id_title_and_descriptions_is_allowed() -> None:
    old = payload({"hours": {**INTEGER, "title": "Hours"}})
    new = {
        **payload({"hours": {**INTEGER, "title": "Heures", "description": "Attended."}}),
        "$id": "schemas/jsonschema/elsewhere.json",
        "title": "Renamed",
    }

    assert breaking_changes(old, new) == []


def test_removing_a_defs_entry_nobody_references_is_allowed() -> None:
    kind = {"type": "string", "enum": ["entry", "exit"]}
    old = payload({"kind": {"$ref": "#/$defs/Kind"}}, defs={"Kind": kind})
    new = payload({"kind": kind})

    assert breaking_changes(old, new) == []


def test_loosening_a_bound_is_allowed() -> None:
    old = payload({"name": {"type": "string", "minLength": 2, "maxLength": 10}})
    new = payload({"name": {"type": "string", "minLength": 1}})

    assert breaking_changes(old, new) == []


# Breaking changes.


def test_removing_a_property_is_breaking() -> None:
    old = payload({"hours": INTEGER, "reason": NULLABLE_TEXT}, ("hours",))
    new = payload({"hours": INTEGER}, ("hours",))

    assert breaking_changes(old, new) == ["$.reason: property removed"]


def test_making_a_property_required_is_breaking() -> None:
    old = payload({"reason": TEXT})
    new = payload({"reason": TEXT}, ("reason",))

    assert breaking_changes(old, new) == [
        "$.reason: newly required (only optional properties may be added)"
    ]


def test_adding_a_required_property_is_breaking() -> None:
    old = payload({"hours": INTEGER})
    new = payload({"hours": INTEGER, "reason": TEXT}, ("reason",))

    assert breaking_changes(old, new) == [
        "$.reason: new property is required (only optional properties may be added)"
    ]


def test_changing_a_type_is_breaking() -> None:
    old = payload({"hours": INTEGER})
    new = payload({"hours": TEXT})

    assert breaking_changes(old, new) == ["$.hours: type changed from integer to string"]


def test_a_nullable_property_becoming_non_null_is_breaking() -> None:
    old = payload({"reason": NULLABLE_TEXT})
    new = payload({"reason": TEXT})

    assert breaking_changes(old, new) == ["$.reason: type changed from string | null to string"]


def test_narrowing_an_enum_is_breaking() -> None:
    old = payload({"kind": {"type": "string", "enum": ["entry", "exit"]}})
    new = payload({"kind": {"type": "string", "enum": ["entry"]}})

    assert breaking_changes(old, new) == [
        '$.kind: enum or const narrowed: "exit" no longer allowed'
    ]


def test_changing_a_const_is_breaking() -> None:
    old = payload({"kind": {"type": "string", "const": "entry"}})
    new = payload({"kind": {"type": "string", "const": "exit"}})

    assert breaking_changes(old, new) == [
        '$.kind: enum or const narrowed: "entry" no longer allowed'
    ]


def test_restricting_a_free_value_to_an_enum_is_breaking() -> None:
    old = payload({"kind": TEXT})
    new = payload({"kind": {"type": "string", "enum": ["entry"]}})

    assert breaking_changes(old, new) == ['$.kind: now restricted to "entry"']


@pytest.mark.parametrize(
    ("before", "after"), [("date-time", "date"), (None, "email"), ("uuid", None)]
)
def test_changing_a_format_is_breaking(before: str | None, after: str | None) -> None:
    old = payload({"at": {"type": "string"} | ({"format": before} if before else {})})
    new = payload({"at": {"type": "string"} | ({"format": after} if after else {})})

    assert breaking_changes(old, new) == [f"$.at: format changed from {before!r} to {after!r}"]


def test_tightening_a_bound_or_pattern_is_breaking() -> None:
    old = payload({"id": {"type": "string", "maxLength": 8}})
    new = payload({"id": {"type": "string", "maxLength": 7, "pattern": "^[0-9]{7}$"}})

    assert breaking_changes(old, new) == [
        "$.id: pattern changed from None to '^[0-9]{7}$'",
        "$.id: maxLength tightened from 8 to 7",
    ]


def test_removing_a_defs_entry_still_referenced_is_breaking() -> None:
    old = signatory({"name": TEXT}, ("name",))
    new = deepcopy(old)
    del new["$defs"]["Signatory"]

    assert breaking_changes(old, new) == [
        "#/$defs/Signatory: removed $defs entry is still referenced"
    ]


def test_changes_inside_a_nested_model_are_found_through_its_ref() -> None:
    old = signatory({"name": TEXT, "function": NULLABLE_TEXT}, ("name",))
    new = signatory({"name": INTEGER}, ("name",))

    assert breaking_changes(old, new) == [
        "$.signed_by.name: type changed from string to integer",
        "$.signed_by.function: property removed",
    ]


def test_changes_inside_array_items_and_map_values_are_found() -> None:
    old = payload(
        {
            "emails": {"type": "array", "items": TEXT},
            "hours_by_month": {"type": "object", "additionalProperties": INTEGER},
        }
    )
    new = payload(
        {
            "emails": {"type": "array", "items": INTEGER},
            "hours_by_month": {"type": "object", "additionalProperties": TEXT},
        }
    )

    assert breaking_changes(old, new) == [
        "$.emails[]: type changed from string to integer",
        "$.hours_by_month.*: type changed from integer to string",
    ]


def test_closing_an_object_to_additional_properties_is_breaking() -> None:
    old = payload({"hours": INTEGER})
    new = payload({"hours": INTEGER}, additionalProperties=False)

    assert breaking_changes(old, new) == ["$: no longer accepts additional properties"]


# With the schemas pydantic writes for real contracts.


class Step(ContractModel):
    """A recursive nested model: a step and the steps it leads to."""

    name: str
    next_steps: "tuple[Step, ...]" = ()


class SampleV1(Event, registry=EventRegistry()):
    """Test-only: the published version."""

    event_type: ClassVar[str] = "fr.kairos.declaration.test-only-declared.v1"
    topic: ClassVar[str] = "kairos.declaration.v1"

    declaration_id: str
    kind: Literal["entry", "exit"]
    first_step: Step

    def partition_key(self) -> str:
        return self.declaration_id


class SampleV1WithOptionalField(Event, registry=EventRegistry()):
    """Test-only: the same type, with a new optional field."""

    event_type: ClassVar[str] = SampleV1.event_type
    topic: ClassVar[str] = "kairos.declaration.v1"

    declaration_id: str
    kind: Literal["entry", "exit", "interruption"]
    first_step: Step
    late: bool = False

    def partition_key(self) -> str:
        return self.declaration_id


class SampleV1Narrowed(Event, registry=EventRegistry()):
    """Test-only: the same type, broken."""

    event_type: ClassVar[str] = SampleV1.event_type
    topic: ClassVar[str] = "kairos.declaration.v1"

    declaration_id: int
    kind: Literal["entry"]
    first_step: Step

    def partition_key(self) -> str:
        return str(self.declaration_id)


def test_pydantic_schemas_of_a_compatible_revision_pass() -> None:
    old, new = event_json_schema(SampleV1), event_json_schema(SampleV1WithOptionalField)

    assert breaking_changes(old, new) == []


def test_pydantic_schemas_of_a_breaking_revision_are_reported() -> None:
    old, new = event_json_schema(SampleV1), event_json_schema(SampleV1Narrowed)

    assert breaking_changes(old, new) == [
        "$.declaration_id: type changed from string to integer",
        '$.kind: enum or const narrowed: "exit" no longer allowed',
    ]
