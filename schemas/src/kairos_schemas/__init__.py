"""Kairos event contracts: the CloudEvents envelope, the event classes and their registry.

Importing the package imports every service's contract module, so the registry is complete:
`registered_events()` is what the committed JSON Schemas and AsyncAPI document describe
(`python -m kairos_schemas.generate`).
"""

from kairos_schemas import declaration, habilitation, identity, notification
from kairos_schemas.cloudevents import CloudEvent, InvalidCloudEventError, KafkaRecord
from kairos_schemas.compatibility import breaking_changes
from kairos_schemas.events import (
    REGISTRY,
    ContractModel,
    Event,
    EventContractError,
    EventRegistry,
    EventValidationError,
    UnknownEventTypeError,
    event_class,
    parse_event,
    registered_events,
    schema_uri,
    to_cloudevent,
)
from kairos_schemas.topics import INTEGRATOR_TOPICS, PLATFORM_TOPICS, dead_letter_topic

__all__ = [
    "INTEGRATOR_TOPICS",
    "PLATFORM_TOPICS",
    "REGISTRY",
    "CloudEvent",
    "ContractModel",
    "Event",
    "EventContractError",
    "EventRegistry",
    "EventValidationError",
    "InvalidCloudEventError",
    "KafkaRecord",
    "UnknownEventTypeError",
    "breaking_changes",
    "dead_letter_topic",
    "declaration",
    "event_class",
    "habilitation",
    "identity",
    "notification",
    "parse_event",
    "registered_events",
    "schema_uri",
    "to_cloudevent",
]
