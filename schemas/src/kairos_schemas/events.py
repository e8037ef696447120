"""`Event`, the base of every event contract, and the registry from CloudEvents type to class.

A concrete event declares its versioned type (`fr.kairos.<service>.<what-happened>.v<N>`), the
topic it is published on (`kairos.<service>.v<N>`, the same service) and its aggregate id
(`partition_key`, the Kafka key). Declaring the class registers it; a class that breaks those
rules is refused when it is defined, not when its first event is sent.

Two registries exist in practice: `REGISTRY`, the platform's, which only takes classes defined
in `kairos_schemas` (so the committed JSON Schemas and AsyncAPI document describe exactly the
published contracts), and the private `EventRegistry()` a test passes with
`class Sample(Event, registry=...)`, so test-only events never reach the committed files.

Compatibility: producers validate with `extra="forbid"` (a misspelt field fails at once), but
`parse_event` ignores fields it does not know, at every depth, so a consumer keeps working when
a newer producer adds an optional field (the only change a published type may receive).
"""

import re
import uuid
from abc import abstractmethod
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from kairos_schemas.cloudevents import CloudEvent

SERVICES = ("identity", "habilitation", "declaration", "notification")
_NAME = r"[a-z0-9]+(?:-[a-z0-9]+)*"
EVENT_TYPE_PATTERN = re.compile(
    rf"fr\.kairos\.(?P<service>{_NAME})\.(?P<what>{_NAME}(?:\.{_NAME})*)\.v(?P<version>[1-9]\d*)",
    re.ASCII,
)
TOPIC_PATTERN = re.compile(rf"kairos\.(?P<service>{_NAME})\.v(?P<version>[1-9]\d*)", re.ASCII)
#: the folder of the contracts package in the repository, and of the JSON Schemas inside it
SCHEMAS_FOLDER = "schemas"
JSON_SCHEMA_FOLDER = "jsonschema"
PLATFORM_MODULE_PREFIX = "kairos_schemas."


class EventContractError(TypeError):
    """An event class that breaks the contract rules; raised when the class is defined."""


class UnknownEventTypeError(LookupError):
    """No event class is registered for this CloudEvents type."""


class EventValidationError(ValueError):
    """An event's data violates its schema; `problems` holds one `path: reason` per field."""

    def __init__(self, event_type: str, problems: tuple[str, ...]) -> None:
        super().__init__(f"invalid data for {event_type}: " + "; ".join(problems))
        self.event_type = event_type
        self.problems = problems


def schema_path(event_type: str) -> str:
    """The JSON Schema file of a type, relative to the `schemas/` folder."""
    return f"{JSON_SCHEMA_FOLDER}/{event_type}.json"


def schema_uri(event_type: str) -> str:
    """The `dataschema` of a type (and its schema's `$id`): a URI relative to the repository
    root, `schemas/jsonschema/<type>.json`, where the schema is published."""
    return f"{SCHEMAS_FOLDER}/{schema_path(event_type)}"


class EventRegistry:
    """Event classes by type. `module_prefix` restricts which modules may register in it."""

    def __init__(self, *, module_prefix: str | None = None) -> None:
        self._classes: dict[str, type[Event]] = {}
        self._module_prefix = module_prefix

    def register(self, event_class: "type[Event]") -> None:
        """Add a concrete event class; refuse a duplicate type or a module outside the prefix."""
        prefix, module = self._module_prefix, event_class.__module__
        if prefix is not None and not module.startswith(prefix):
            raise EventContractError(
                f"{event_class.__qualname__} is defined in {module}: this registry only takes"
                f" classes of {prefix}* (a test-only event passes registry=EventRegistry())"
            )
        existing = self._classes.get(event_class.event_type)
        if existing is not None:
            raise EventContractError(
                f"event type {event_class.event_type!r} of {_qualified(event_class)} is already"
                f" declared by {_qualified(existing)}"
            )
        self._classes[event_class.event_type] = event_class

    def event_class(self, event_type: str) -> "type[Event]":
        """The class of a type, or `UnknownEventTypeError` naming it."""
        try:
            return self._classes[event_type]
        except KeyError:
            raise UnknownEventTypeError(f"unknown event type {event_type!r}") from None

    def events(self, topic: str | None = None) -> "tuple[type[Event], ...]":
        """The registered classes sorted by type, only those of `topic` when given."""
        return tuple(
            self._classes[event_type]
            for event_type in sorted(self._classes)
            if topic is None or self._classes[event_type].topic == topic
        )


REGISTRY = EventRegistry(module_prefix=PLATFORM_MODULE_PREFIX)


class ContractModel(BaseModel):
    """The base of every model in an event's data: immutable, strict when produced.

    Nested values of an event (a signatory, an address) subclass it, events subclass `Event`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Event(ContractModel):
    """The base of every event contract: an immutable fact, validated strictly when produced.

    A concrete subclass sets the class variables `event_type` and `topic` (or inherits the
    topic), implements `partition_key` and has a docstring (its published description). An
    intermediate class (say, the base of every habilitation event, which may set `topic`) has
    no `event_type` and is not registered. `class X(Event, registry=...)` registers elsewhere
    than in the platform's `REGISTRY` (tests do).
    """

    event_type: ClassVar[str]
    topic: ClassVar[str]

    def __init_subclass__(cls, *, registry: EventRegistry | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "topic" in cls.__dict__:
            _check_topic(cls)
        if "event_type" not in cls.__dict__:
            if hasattr(cls, "event_type"):
                raise EventContractError(
                    f"{_qualified(cls)} inherits event_type {cls.event_type!r}: a concrete event"
                    " is final, declare a new event_type (and class) instead"
                )
            return
        _check_concrete(cls)
        (REGISTRY if registry is None else registry).register(cls)

    @abstractmethod
    def partition_key(self) -> str:
        """The aggregate id: the Kafka key, so one aggregate's events stay in order."""


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _check_topic(cls: type[Event]) -> None:
    if not isinstance(cls.topic, str) or not TOPIC_PATTERN.fullmatch(cls.topic):
        raise EventContractError(
            f"{_qualified(cls)}: topic {cls.topic!r} does not match kairos.<service>.v<N>"
        )


def _check_concrete(cls: type[Event]) -> None:
    """A concrete event: well-formed type, a topic of the same service, a partition key."""
    match = (
        EVENT_TYPE_PATTERN.fullmatch(cls.event_type) if isinstance(cls.event_type, str) else None
    )
    if match is None:
        raise EventContractError(
            f"{_qualified(cls)}: event_type {cls.event_type!r} does not match"
            " fr.kairos.<service>.<what-happened>.v<N>"
        )
    service = match["service"]
    if service not in SERVICES:
        raise EventContractError(
            f"{_qualified(cls)}: event_type {cls.event_type!r} names service {service!r},"
            f" not one of {', '.join(SERVICES)}"
        )
    if not hasattr(cls, "topic"):
        raise EventContractError(f"{_qualified(cls)} declares event_type but no topic")
    _check_topic(cls)
    topic_match = TOPIC_PATTERN.fullmatch(cls.topic)
    if topic_match is None or topic_match["service"] != service:
        raise EventContractError(
            f"{_qualified(cls)}: {service} events are published on kairos.{service}.v<N> topics,"
            f" not on {cls.topic!r}"
        )
    if getattr(cls.partition_key, "__isabstractmethod__", False):
        raise EventContractError(f"{_qualified(cls)} does not implement partition_key()")
    if not (cls.__doc__ or "").strip():
        raise EventContractError(
            f"{_qualified(cls)} has no docstring: it is the event's published description"
        )


def event_class(event_type: str, *, registry: EventRegistry = REGISTRY) -> type[Event]:
    """The class registered for a CloudEvents type (`UnknownEventTypeError` if none)."""
    return registry.event_class(event_type)


def registered_events(
    topic: str | None = None, *, registry: EventRegistry = REGISTRY
) -> tuple[type[Event], ...]:
    """Every registered event class, sorted by type; only the topic's when one is given."""
    return registry.events(topic)


def to_cloudevent(
    event: Event,
    *,
    source: str,
    correlation_id: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
) -> CloudEvent:
    """Wrap an event in its envelope: a new uuid4 id and the current UTC time unless given."""
    return CloudEvent(
        id=event_id if event_id is not None else str(uuid.uuid4()),
        source=source,
        type=event.event_type,
        time=time if time is not None else datetime.now(UTC),
        dataschema=schema_uri(event.event_type),
        correlationid=correlation_id,
        partitionkey=event.partition_key(),
        data=event.model_dump(mode="json"),
    )


def parse_event(cloudevent: CloudEvent, *, registry: EventRegistry = REGISTRY) -> Event:
    """The event an envelope carries, validated against its class.

    Fields the class does not know (added by a newer producer) are ignored at every depth:
    `extra="ignore"` overrides the contracts' `extra="forbid"` for this validation only.
    """
    cls = registry.event_class(cloudevent.type)
    try:
        return cls.model_validate(cloudevent.data, extra="ignore")
    except ValidationError as error:
        problems = tuple(f"{_field_path(item['loc'])}: {item['msg']}" for item in error.errors())
        raise EventValidationError(cloudevent.type, problems) from None


def _field_path(location: tuple[int | str, ...]) -> str:
    """`holder.emails[0]` from pydantic's `('holder', 'emails', 0)`."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".") or "(data)"
