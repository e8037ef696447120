"""A class that breaks the contract rules is refused when it is defined.

Each class is defined inside its test, in a registry of the test, so nothing leaks.
"""

import types
from typing import Any, ClassVar, cast

import pytest

from kairos_schemas import Event, EventContractError, EventRegistry, registered_events


def test_a_duplicate_event_type_is_refused() -> None:
    registry = EventRegistry()

    class First(Event, registry=registry):
        """Test-only."""

        event_type: ClassVar[str] = "fr.kairos.identity.test-only-duplicated.v1"
        topic: ClassVar[str] = "kairos.identity.v1"

        def partition_key(self) -> str:
            return "key"

    with pytest.raises(EventContractError, match=r"is already declared by .*First"):

        class Second(Event, registry=registry):
            """Test-only."""

            event_type: ClassVar[str] = "fr.kairos.identity.test-only-duplicated.v1"
            topic: ClassVar[str] = "kairos.identity.v1"

            def partition_key(self) -> str:
                return "key"

    assert registry.events() == (First,)


def _partition_key(_event: Event) -> str:
    return "key"


def _define(event_type: str, topic: str | None) -> type[Event]:
    """Define a concrete test-only event in a throw-away registry."""

    def body(namespace: dict[str, Any]) -> None:
        namespace.update(__module__=__name__, __doc__="Test-only.", event_type=event_type)
        namespace["partition_key"] = _partition_key
        if topic is not None:
            namespace["topic"] = topic

    registry = {"registry": EventRegistry()}
    return cast(type[Event], types.new_class("Defined", (Event,), registry, body))


def test_the_pattern_accepts_kebab_case_and_dotted_names() -> None:
    defined = _define(
        "fr.kairos.declaration.test-only.attendance-declared.v12", "kairos.declaration.v1"
    )

    assert defined.event_type == "fr.kairos.declaration.test-only.attendance-declared.v12"


@pytest.mark.parametrize(
    "event_type",
    [
        "fr.kairos.identity.test-only-created",  # no version
        "fr.kairos.identity.test-only-created.v0",  # versions start at 1
        "fr.kairos.identity.TestOnlyCreated.v1",  # kebab-case
        "kairos.identity.test-only-created.v1",  # the fr.kairos. prefix
        "fr.kairos.identity.v1",  # what happened is missing
        "fr.kairos.identity.test_only_created.v1",  # underscores
        "fr.kairos.identity.test-only-created.v1 ",  # trailing space
    ],
)
def test_an_event_type_outside_the_pattern_is_refused(event_type: str) -> None:
    with pytest.raises(EventContractError, match=r"does not match fr\.kairos\.<service>"):
        _define(event_type, "kairos.identity.v1")


def test_an_event_type_of_an_unknown_service_is_refused() -> None:
    with pytest.raises(EventContractError, match="names service 'billing', not one of identity"):
        _define("fr.kairos.billing.test-only-created.v1", "kairos.billing.v1")


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        (None, "declares event_type but no topic"),
        ("kairos.identity", "topic 'kairos.identity' does not match kairos.<service>.v<N>"),
        ("identity.v1", "topic 'identity.v1' does not match kairos.<service>.v<N>"),
        ("kairos.identity.v1.dlq", "does not match kairos.<service>.v<N>"),
        (
            "kairos.habilitation.v1",
            "identity events are published on kairos.identity.v<N> topics,"
            " not on 'kairos.habilitation.v1'",
        ),
    ],
)
def test_a_topic_outside_the_pattern_or_of_another_service_is_refused(
    topic: str | None, message: str
) -> None:
    with pytest.raises(EventContractError, match=message.replace(".", r"\.")):
        _define("fr.kairos.identity.test-only-created.v1", topic)


def test_an_event_without_partition_key_is_refused() -> None:
    with pytest.raises(EventContractError, match=r"does not implement partition_key\(\)"):

        class NoKey(Event, registry=EventRegistry()):
            """Test-only."""

            event_type: ClassVar[str] = "fr.kairos.identity.test-only-keyless.v1"
            topic: ClassVar[str] = "kairos.identity.v1"


def test_an_event_without_docstring_is_refused() -> None:
    with pytest.raises(EventContractError, match="has no docstring"):

        class Undocumented(Event, registry=EventRegistry()):
            event_type: ClassVar[str] = "fr.kairos.identity.test-only-undocumented.v1"
            topic: ClassVar[str] = "kairos.identity.v1"

            def partition_key(self) -> str:
                return "key"


def test_a_concrete_event_is_final() -> None:
    registry = EventRegistry()

    class Concrete(Event, registry=registry):
        """Test-only."""

        event_type: ClassVar[str] = "fr.kairos.identity.test-only-concrete.v1"
        topic: ClassVar[str] = "kairos.identity.v1"

        def partition_key(self) -> str:
            return "key"

    with pytest.raises(
        EventContractError, match=r"inherits event_type .* a concrete event is final"
    ):

        class Refined(Concrete, registry=registry):
            """Test-only."""


def test_an_abstract_intermediate_class_is_allowed_and_not_registered() -> None:
    registry = EventRegistry()

    class IdentityEvent(Event, registry=registry):
        """Every identity event (abstract)."""

        topic: ClassVar[str] = "kairos.identity.v1"

    assert registry.events() == ()
    with pytest.raises(TypeError, match="abstract"):
        IdentityEvent()  # type: ignore[abstract]  # the refusal at run time is the point


def test_an_intermediate_class_with_a_malformed_topic_is_refused() -> None:
    with pytest.raises(EventContractError, match=r"does not match kairos\.<service>\.v<N>"):

        class Misplaced(Event):
            """Every identity event (abstract), on a misspelt topic."""

            topic: ClassVar[str] = "kairos-identity-v1"


def test_the_platform_registry_refuses_classes_defined_outside_kairos_schemas() -> None:
    with pytest.raises(EventContractError, match=r"only takes classes of kairos_schemas\.\*"):

        class Stray(Event):
            """Test-only, forgotten registry."""

            event_type: ClassVar[str] = "fr.kairos.identity.test-only-stray.v1"
            topic: ClassVar[str] = "kairos.identity.v1"

            def partition_key(self) -> str:
                return "key"

    assert all("test-only" not in cls.event_type for cls in registered_events())
