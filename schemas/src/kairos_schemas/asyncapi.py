"""The AsyncAPI 3.0.0 document of the platform's topics, built from the event registry.

One channel per platform topic and one per dead-letter topic (the same messages, parked by a
consumer that could not process them); one message per event type, whose payload is its JSON
Schema file and whose headers are the CloudEvents binary-mode headers; a `send` operation per
producing service and a `receive` operation for integrators on their topics.
"""

from collections.abc import Sequence
from typing import Any

from kairos_schemas.cloudevents import CONTENT_TYPE_HEADER, JSON_CONTENT_TYPE, SPECVERSION
from kairos_schemas.events import Event, schema_path, schema_uri
from kairos_schemas.json_schemas import describe
from kairos_schemas.topics import INTEGRATOR_TOPICS, dead_letter_topic, producing_service

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
TOPIC_PARTITIONS = 6
DEAD_LETTER_PARTITIONS = 1
LOCAL_SERVER = "local"
PAYLOAD_FORMAT = "application/schema+json;version=draft-2020-12"
DESCRIPTION = """\
Every event of the Kairos platform is a CloudEvents 1.0 event in Kafka **binary mode**: the
context attributes are `ce_*` headers (UTF-8 strings: `ce_specversion`, `ce_id`, `ce_source`,
`ce_type`, `ce_time` in RFC 3339, and when set `ce_subject`, `ce_dataschema`,
`ce_correlationid`), `content-type` is `application/json`, the value is the event's data as a
JSON object, and the key is the aggregate id (the `partitionkey` extension), so that one
aggregate's events are read in the order they happened.

`ce_type` is versioned (`fr.kairos.<service>.<what-happened>.v<N>`) and names the JSON Schema of
the data (`ce_dataschema`). A published type only evolves compatibly, by new optional fields:
consumers must ignore fields they do not know. A breaking change is a new `.v2` type and topic.
Consumers de-duplicate on `ce_id` (delivery is at least once) and park what they cannot process
on `<topic>.dlq`.
"""


def asyncapi_document(
    events: Sequence[type[Event]], topics: Sequence[str], version: str
) -> dict[str, Any]:
    """The document for these events and topics, as plain data in a stable order."""
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Kairos platform events",
            "version": version,
            "description": DESCRIPTION,
            "license": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
        },
        "defaultContentType": JSON_CONTENT_TYPE,
        "servers": {
            LOCAL_SERVER: {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The local Kafka of `make run` (KRaft, single node).",
            }
        },
        "channels": _channels(events, topics),
        "operations": _operations(events, topics),
        "components": {"messages": {cls.event_type: _message(cls) for cls in events}},
    }


def _channels(events: Sequence[type[Event]], topics: Sequence[str]) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    for topic in topics:
        service = producing_service(topic)
        channels[topic] = _channel(
            topic,
            events,
            f"Events of the {service} service, keyed by their aggregate id.",
            TOPIC_PARTITIONS,
        )
        dead_letters = dead_letter_topic(topic)
        channels[dead_letters] = _channel(
            dead_letters,
            [cls for cls in events if cls.topic == topic],
            f"Messages of `{topic}` that a consumer could not process, parked for an operator"
            " to replay: the original record, plus headers describing the failure.",
            DEAD_LETTER_PARTITIONS,
            source_topic=topic,
        )
    return channels


def _channel(
    address: str,
    events: Sequence[type[Event]],
    description: str,
    partitions: int,
    source_topic: str | None = None,
) -> dict[str, Any]:
    topic = source_topic or address
    return {
        "address": address,
        "description": description,
        "servers": [{"$ref": f"#/servers/{LOCAL_SERVER}"}],
        "messages": {
            cls.event_type: {"$ref": f"#/components/messages/{cls.event_type}"}
            for cls in events
            if cls.topic == topic
        },
        "bindings": {
            "kafka": {
                "topic": address,
                "partitions": partitions,
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _operations(events: Sequence[type[Event]], topics: Sequence[str]) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for topic in topics:
        service = producing_service(topic)
        operations[f"send{service.capitalize()}Events"] = _operation(
            "send", topic, events, f"The {service} service publishes its events."
        )
    for topic in topics:
        if topic in INTEGRATOR_TOPICS:
            operations[f"receive{producing_service(topic).capitalize()}Events"] = _operation(
                "receive",
                topic,
                events,
                "Integrators consume the accepted declarations (read-only), in order per key,"
                " each with its own consumer group.",
            )
    return operations


def _operation(
    action: str, topic: str, events: Sequence[type[Event]], description: str
) -> dict[str, Any]:
    return {
        "action": action,
        "description": description,
        "channel": {"$ref": f"#/channels/{topic}"},
        "messages": [
            {"$ref": f"#/channels/{topic}/messages/{cls.event_type}"}
            for cls in events
            if cls.topic == topic
        ],
    }


def _message(event_class: type[Event]) -> dict[str, Any]:
    description = describe(event_class)
    return {
        "name": event_class.event_type,
        "title": event_class.__name__,
        "summary": description.split("\n", 1)[0],
        "description": description,
        "contentType": JSON_CONTENT_TYPE,
        "headers": _headers_schema(event_class),
        "payload": {
            "schemaFormat": PAYLOAD_FORMAT,
            "schema": {"$ref": "./" + schema_path(event_class.event_type)},
        },
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": "The aggregate id (CloudEvents partitionkey).",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _headers_schema(event_class: type[Event]) -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "type": "object",
        "required": [
            "ce_specversion",
            "ce_id",
            "ce_source",
            "ce_type",
            "ce_time",
            CONTENT_TYPE_HEADER,
        ],
        "properties": {
            "ce_specversion": {"type": "string", "const": SPECVERSION},
            "ce_id": {**text, "description": "Unique per event: consumers de-duplicate on it."},
            "ce_source": {
                **text,
                "format": "uri-reference",
                "description": "The producing service, e.g. `/kairos/identity`.",
            },
            "ce_type": {"type": "string", "const": event_class.event_type},
            "ce_time": {**text, "format": "date-time", "description": "When it happened (UTC)."},
            "ce_subject": text,
            "ce_dataschema": {"type": "string", "const": schema_uri(event_class.event_type)},
            "ce_correlationid": {
                **text,
                "description": "Follows one request through every service's events and logs.",
            },
            CONTENT_TYPE_HEADER: {"type": "string", "const": JSON_CONTENT_TYPE},
        },
    }
