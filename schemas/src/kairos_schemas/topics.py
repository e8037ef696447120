"""The platform's Kafka topics: one per producing service, each with its dead-letter topic.

The list is what the AsyncAPI document describes, whether or not a topic has events yet.
"""

from kairos_schemas import declaration, habilitation, identity, notification
from kairos_schemas.events import TOPIC_PATTERN

#: the topics, in the order of the data flow (identity first, integrators' topic third)
PLATFORM_TOPICS: tuple[str, ...] = (
    identity.TOPIC,
    habilitation.TOPIC,
    declaration.TOPIC,
    notification.TOPIC,
)
#: the topics integrators subscribe to (read-only)
INTEGRATOR_TOPICS: tuple[str, ...] = (declaration.TOPIC,)
DEAD_LETTER_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    """Where a consumer of `topic` parks a message it could not process (`<topic>.dlq`)."""
    return topic + DEAD_LETTER_SUFFIX


def producing_service(topic: str) -> str:
    """The service that publishes on a platform topic (`kairos.<service>.v<N>`)."""
    match = TOPIC_PATTERN.fullmatch(topic)
    if match is None:
        raise ValueError(f"{topic!r} is not a platform topic (kairos.<service>.v<N>)")
    return match["service"]
