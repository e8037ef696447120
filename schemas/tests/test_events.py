"""Event contracts: registration rules, the envelope round trip, forward compatibility.

The events here are test-only: they live in a registry of this module, never in the platform's,
so they cannot reach the committed JSON Schemas or AsyncAPI document.
"""

import uuid
from datetime import UTC, datetime
from typing import ClassVar

import pytest

from kairos_schemas import (
    REGISTRY,
    CloudEvent,
    ContractModel,
    Event,
    EventRegistry,
    EventValidationError,
    UnknownEventTypeError,
    event_class,
    parse_event,
    registered_events,
    to_cloudevent,
)

registry = EventRegistry()


class Signatory(ContractModel):
    """Who signed a written habilitation (nested value object)."""

    name: str
    emails: tuple[str, ...]


class HabilitationEvent(Event):
    """Abstract intermediate class: every habilitation event has a habilitation id."""

    topic: ClassVar[str] = "kairos.habilitation.v1"

    habilitation_id: str

    def partition_key(self) -> str:
        return self.habilitation_id


class SampleGranted(HabilitationEvent, registry=registry):
    """Test-only: a habilitation was granted."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.test-only-granted.v1"

    signed_by: Signatory
    hours: int = 0


class SampleRevoked(HabilitationEvent, registry=registry):
    """Test-only: a habilitation was revoked."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.test-only-revoked.v1"

    reason: str | None = None


class SampleAccountLapsed(Event, registry=registry):
    """Test-only: an account lapsed."""

    event_type: ClassVar[str] = "fr.kairos.identity.test-only-account-lapsed.v1"
    topic: ClassVar[str] = "kairos.identity.v1"

    account_id: str

    def partition_key(self) -> str:
        return self.account_id


GRANTED = SampleGranted(
    habilitation_id="hab-1",
    signed_by=Signatory(name="Élise Martin", emails=("elise@of.example", "direction@of.example")),
    hours=35,
)


def test_to_cloudevent_fills_the_envelope_from_the_event() -> None:
    moment = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)

    envelope = to_cloudevent(
        GRANTED, source="/kairos/habilitation", correlation_id="req-9", event_id="e-1", time=moment
    )

    assert envelope == CloudEvent(
        id="e-1",
        source="/kairos/habilitation",
        type="fr.kairos.habilitation.test-only-granted.v1",
        time=moment,
        dataschema="schemas/jsonschema/fr.kairos.habilitation.test-only-granted.v1.json",
        correlationid="req-9",
        partitionkey="hab-1",
        data=GRANTED.model_dump(mode="json"),
    )


def test_to_cloudevent_defaults_to_a_new_uuid4_and_now_in_utc() -> None:
    before = datetime.now(UTC)

    first = to_cloudevent(GRANTED, source="/kairos/habilitation")
    second = to_cloudevent(GRANTED, source="/kairos/habilitation")

    assert uuid.UUID(first.id).version == 4
    assert first.id != second.id
    assert before <= first.time <= datetime.now(UTC)
    assert first.correlationid is None


def test_an_event_survives_envelope_and_kafka_round_trip() -> None:
    record = to_cloudevent(GRANTED, source="/kairos/habilitation").to_kafka()

    envelope = CloudEvent.from_kafka(record.key, record.value, record.headers)
    received = parse_event(envelope, registry=registry)

    assert received == GRANTED
    assert type(received) is SampleGranted


def _envelope(event_type: str, data: dict[str, object]) -> CloudEvent:
    return CloudEvent.model_validate(
        {
            "id": "e-2",
            "source": "/kairos/habilitation",
            "type": event_type,
            "time": datetime(2025, 3, 4, tzinfo=UTC),
            "partitionkey": "hab-1",
            "data": data,
        }
    )


def test_parse_event_ignores_fields_a_newer_producer_added_at_every_depth() -> None:
    data = GRANTED.model_dump(mode="json")
    data["added_in_a_later_release"] = {"optional": True}
    data["signed_by"] = {**data["signed_by"], "function": "directrice"}

    received = parse_event(_envelope(SampleGranted.event_type, data), registry=registry)

    assert received == GRANTED


def test_producers_stay_strict_about_unknown_fields() -> None:
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        SampleRevoked.model_validate({"habilitation_id": "hab-1", "raison": "typo"})


def test_parse_event_lists_each_bad_field_with_its_path() -> None:
    data: dict[str, object] = {
        "habilitation_id": "hab-1",
        "signed_by": {"name": "Élise Martin", "emails": ["ok@of.example", 42]},
        "hours": "many",
    }

    with pytest.raises(EventValidationError) as raised:
        parse_event(_envelope(SampleGranted.event_type, data), registry=registry)

    assert raised.value.problems == (
        "signed_by.emails[1]: Input should be a valid string",
        "hours: Input should be a valid integer, unable to parse string as an integer",
    )
    assert str(raised.value).startswith(
        "invalid data for fr.kairos.habilitation.test-only-granted.v1: signed_by.emails[1]"
    )


def test_parse_event_names_a_missing_field() -> None:
    with pytest.raises(EventValidationError, match="habilitation_id: Field required"):
        parse_event(_envelope(SampleRevoked.event_type, {}), registry=registry)


def test_parse_event_names_an_unknown_type() -> None:
    unknown = "fr.kairos.habilitation.test-only-never-declared.v1"

    with pytest.raises(UnknownEventTypeError, match=f"unknown event type '{unknown}'"):
        parse_event(_envelope(unknown, {}), registry=registry)


def test_events_are_immutable() -> None:
    with pytest.raises(ValueError, match="frozen"):
        GRANTED.hours = 1  # type: ignore[misc]  # mypy knows it too: the point is the runtime


def test_lookups_by_type_and_by_topic() -> None:
    assert event_class(SampleRevoked.event_type, registry=registry) is SampleRevoked
    assert registered_events(registry=registry) == (
        SampleGranted,
        SampleRevoked,
        SampleAccountLapsed,
    )
    assert registered_events("kairos.identity.v1", registry=registry) == (SampleAccountLapsed,)
    assert registered_events("kairos.notification.v1", registry=registry) == ()


def test_intermediate_classes_are_not_registered() -> None:
    with pytest.raises(UnknownEventTypeError):
        event_class("HabilitationEvent", registry=registry)
    assert HabilitationEvent not in registered_events(registry=registry)


def test_the_platform_registry_has_only_kairos_schemas_contracts() -> None:
    assert all(cls.__module__.startswith("kairos_schemas.") for cls in registered_events())
    assert SampleGranted not in registered_events()
    assert registered_events() == REGISTRY.events()
