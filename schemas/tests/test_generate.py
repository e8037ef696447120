"""The generated JSON Schemas and AsyncAPI document, and the committed copies being current.

Rendering takes the event classes as an argument: the test-only events below live in a registry
of this module and are rendered into temporary folders, never into `schemas/`.
"""

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from kairos_schemas import (
    PLATFORM_TOPICS,
    ContractModel,
    Event,
    EventRegistry,
    registered_events,
    schema_uri,
)
from kairos_schemas.generate import (
    ASYNCAPI_FILE,
    INDEX_FILE,
    SCHEMAS_ROOT,
    main,
    out_of_date,
    render_all,
    write_all,
)

registry = EventRegistry()


class Period(ContractModel):
    """A span of days."""

    start: str
    end: str | None = None


class SampleInterrupted(Event, registry=registry):
    """Test-only: a training session was interrupted.

    For more than 15 days (K16).
    """

    event_type: ClassVar[str] = "fr.kairos.declaration.test-only-interrupted.v1"
    topic: ClassVar[str] = "kairos.declaration.v1"

    session_id: str
    period: Period

    def partition_key(self) -> str:
        return self.session_id


class SampleLapsed(Event, registry=registry):
    """Test-only: an account lapsed."""

    event_type: ClassVar[str] = "fr.kairos.identity.test-only-lapsed.v1"
    topic: ClassVar[str] = "kairos.identity.v1"

    account_id: str

    def partition_key(self) -> str:
        return self.account_id


SAMPLES = registry.events()
INTERRUPTED_FILE = "jsonschema/fr.kairos.declaration.test-only-interrupted.v1.json"


def asyncapi(files: dict[str, str]) -> dict[str, Any]:
    document = yaml.safe_load(files[ASYNCAPI_FILE])
    assert isinstance(document, dict)
    return document


def resolve(document: dict[str, Any], reference: str) -> Any:
    node: Any = document
    for token in reference.removeprefix("#/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def references(node: object) -> list[str]:
    if isinstance(node, list):
        return [reference for item in node for reference in references(item)]
    if not isinstance(node, dict):
        return []
    found = [node["$ref"]] if "$ref" in node else []
    return found + [reference for value in node.values() for reference in references(value)]


def test_the_asyncapi_document_has_every_topic_and_dead_letter_channel_without_events() -> None:
    document = asyncapi(render_all([], version="1.2.3"))

    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["version"] == "1.2.3"
    assert document["servers"]["local"] == {
        "host": "127.0.0.1:9092",
        "protocol": "kafka",
        "description": "The local Kafka of `make run` (KRaft, single node).",
    }
    assert list(document["channels"]) == [
        "kairos.identity.v1",
        "kairos.identity.v1.dlq",
        "kairos.habilitation.v1",
        "kairos.habilitation.v1.dlq",
        "kairos.declaration.v1",
        "kairos.declaration.v1.dlq",
        "kairos.notification.v1",
        "kairos.notification.v1.dlq",
    ]
    for topic in PLATFORM_TOPICS:
        kafka = document["channels"][topic]["bindings"]["kafka"]
        dead_letters = document["channels"][f"{topic}.dlq"]["bindings"]["kafka"]
        assert (kafka["topic"], kafka["partitions"]) == (topic, 6)
        assert (dead_letters["topic"], dead_letters["partitions"]) == (f"{topic}.dlq", 1)


def test_the_asyncapi_operations_are_one_send_per_service_and_the_integrators_receive() -> None:
    operations = asyncapi(render_all([], version="1.2.3"))["operations"]

    assert {name: (op["action"], op["channel"]["$ref"]) for name, op in operations.items()} == {
        "sendIdentityEvents": ("send", "#/channels/kairos.identity.v1"),
        "sendHabilitationEvents": ("send", "#/channels/kairos.habilitation.v1"),
        "sendDeclarationEvents": ("send", "#/channels/kairos.declaration.v1"),
        "sendNotificationEvents": ("send", "#/channels/kairos.notification.v1"),
        "receiveDeclarationEvents": ("receive", "#/channels/kairos.declaration.v1"),
    }


def test_each_event_type_gets_its_json_schema_file() -> None:
    files = render_all(SAMPLES, version="1.2.3")
    schema = json.loads(files[INTERRUPTED_FILE])

    assert sorted(files) == [
        ASYNCAPI_FILE,
        "jsonschema/README.md",
        INTERRUPTED_FILE,
        "jsonschema/fr.kairos.identity.test-only-lapsed.v1.json",
    ]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == schema_uri(SampleInterrupted.event_type)
    assert schema["$id"] == f"schemas/{INTERRUPTED_FILE}"
    assert schema["title"] == "SampleInterrupted"
    assert (
        schema["description"]
        == "Test-only: a training session was interrupted.\n\nFor more than 15 days (K16)."
    )
    assert schema["required"] == ["session_id", "period"]
    assert schema["$defs"]["Period"]["required"] == ["start"]


def test_json_schemas_are_open_to_unknown_fields_at_every_depth() -> None:
    text = render_all(SAMPLES, version="1.2.3")[INTERRUPTED_FILE]

    assert '"additionalProperties"' not in text
    assert SampleInterrupted.model_json_schema()["additionalProperties"] is False


def test_json_schema_files_are_stable_text() -> None:
    text = render_all(SAMPLES, version="1.2.3")[INTERRUPTED_FILE]

    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert render_all(SAMPLES, version="1.2.3") == render_all(SAMPLES, version="1.2.3")


def test_each_event_type_is_a_message_with_its_headers_payload_and_key() -> None:
    document = asyncapi(render_all(SAMPLES, version="1.2.3"))
    message = document["components"]["messages"][SampleInterrupted.event_type]

    assert message["title"] == "SampleInterrupted"
    assert message["summary"] == "Test-only: a training session was interrupted."
    assert message["payload"] == {
        "schemaFormat": "application/schema+json;version=draft-2020-12",
        "schema": {"$ref": f"./{INTERRUPTED_FILE}"},
    }
    headers = message["headers"]["properties"]
    assert headers["ce_type"] == {"type": "string", "const": SampleInterrupted.event_type}
    assert headers["ce_dataschema"]["const"] == schema_uri(SampleInterrupted.event_type)
    assert {"ce_specversion", "ce_id", "ce_source", "ce_time"} <= set(
        message["headers"]["required"]
    )
    assert message["bindings"]["kafka"]["key"]["type"] == "string"


def test_messages_are_on_their_topic_its_dead_letters_and_its_operations() -> None:
    document = asyncapi(render_all(SAMPLES, version="1.2.3"))
    channels, operations = document["channels"], document["operations"]
    interrupted = SampleInterrupted.event_type

    assert list(channels["kairos.declaration.v1"]["messages"]) == [interrupted]
    assert list(channels["kairos.declaration.v1.dlq"]["messages"]) == [interrupted]
    assert list(channels["kairos.identity.v1"]["messages"]) == [SampleLapsed.event_type]
    assert channels["kairos.habilitation.v1"]["messages"] == {}
    assert operations["receiveDeclarationEvents"]["messages"] == [
        {"$ref": f"#/channels/kairos.declaration.v1/messages/{interrupted}"}
    ]


def test_every_reference_of_the_asyncapi_document_resolves() -> None:
    files = render_all(SAMPLES, version="1.2.3")
    document = asyncapi(files)

    for reference in references(document):
        if reference.startswith("#/"):
            assert resolve(document, reference) is not None, reference
        else:
            assert reference.removeprefix("./") in files, reference


def test_check_names_missing_stale_and_extra_files_and_writes_nothing(tmp_path: Path) -> None:
    rendered = render_all(SAMPLES, version="1.2.3")
    write_all(tmp_path, rendered)
    (tmp_path / INDEX_FILE).write_text("edited by hand\n", encoding="utf-8")
    (tmp_path / INTERRUPTED_FILE).unlink()
    (tmp_path / "jsonschema/fr.kairos.identity.removed.v1.json").write_text(
        "{}\n", encoding="utf-8"
    )
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}

    reports = out_of_date(tmp_path, rendered)

    assert [report.split("\n", 1)[0] for report in reports] == [
        f"stale: {tmp_path / INDEX_FILE}",
        f"missing: {tmp_path / INTERRUPTED_FILE}",
        f"extra: {tmp_path / 'jsonschema/fr.kairos.identity.removed.v1.json'}",
    ]
    assert "-edited by hand\n+# JSON Schemas of the Kairos events\n" in reports[0]
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == before


def test_writing_makes_the_folder_current(tmp_path: Path) -> None:
    (tmp_path / "jsonschema").mkdir()
    (tmp_path / "jsonschema/fr.kairos.identity.removed.v1.json").write_text("{}", encoding="utf-8")
    rendered = render_all(SAMPLES, version="1.2.3")

    changes = write_all(tmp_path, rendered)

    assert len(changes) == len(rendered) + 1
    assert out_of_date(tmp_path, rendered) == []
    assert write_all(tmp_path, rendered) == []


def test_the_command_checks_then_writes_the_platform_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert list(tmp_path.iterdir()) == []
    assert "run `make schemas`" in capsys.readouterr().err

    assert main(["--root", str(tmp_path)]) == 0
    assert main(["--check", "--root", str(tmp_path)]) == 0
    assert "test-only" not in (tmp_path / ASYNCAPI_FILE).read_text(encoding="utf-8")


def test_the_committed_contract_files_are_up_to_date() -> None:
    reports = out_of_date(SCHEMAS_ROOT, render_all(registered_events()))

    assert not reports, "\n".join(
        [*reports, "the committed contract files are out of date: run `make schemas`"]
    )


def test_the_schemas_root_is_the_schemas_folder() -> None:
    assert (SCHEMAS_ROOT / "pyproject.toml").is_file()
    assert (SCHEMAS_ROOT / "src" / "kairos_schemas" / "generate.py").is_file()
