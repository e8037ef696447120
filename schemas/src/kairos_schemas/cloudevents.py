"""The CloudEvents 1.0 envelope of every Kairos event, mapped to and from a Kafka record.

Kairos uses the CloudEvents Kafka protocol binding in **binary mode**: the context attributes
travel as `ce_<attribute>` headers (UTF-8), `datacontenttype` as the `content-type` header, the
data (a JSON object) as the record's value, and the `partitionkey` extension as the record's key
(the aggregate id, so that every event of one aggregate lands in one partition, in order).

`from_kafka` is what consumers (our services and integrators' reference code) call: it says
exactly what is wrong with a record and where, so a dead letter explains itself. Headers that
are not CloudEvents attributes (the DLQ's error headers, tracing, ...) are ignored, and so are
`ce_*` extensions this envelope does not model, as CloudEvents lets consumers do.
"""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, ValidationError
from pydantic.functional_validators import AfterValidator

SPECVERSION: Literal["1.0"] = "1.0"
JSON_CONTENT_TYPE: Literal["application/json"] = "application/json"
CONTENT_TYPE_HEADER = "content-type"
HEADER_PREFIX = "ce_"
#: attributes sent as `ce_<name>` headers, in the order `to_kafka` writes them
REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type", "time")
OPTIONAL_ATTRIBUTES = ("subject", "dataschema", "correlationid")
#: the longest attribute (id, source, type, subject…) and Kafka key read or written, in UTF-8
#: bytes: checked before anything is decoded, matched or logged (a record's headers are the
#: sender's choice; ours are uuids, short URIs and type names, well under it)
ATTRIBUTE_MAX_LENGTH = 256

# RFC 3339 §5.6 date-time: `datetime.fromisoformat` alone also takes ISO 8601 forms that are
# not RFC 3339 (basic format, no offset), which another producer's consumer may not parse.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
# RFC 3986 URI-reference characters (a relative reference such as "/kairos/identity" is fine).
_URI_REFERENCE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.ASCII)


class InvalidCloudEventError(ValueError):
    """A Kafka record that is not a valid Kairos CloudEvent; the message says what and where."""


def _to_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _uri_reference(value: str) -> str:
    if not _URI_REFERENCE.fullmatch(value):
        raise ValueError(f"{value!r} is not a URI-reference (RFC 3986)")
    return value


UriReference = Annotated[
    str, Field(min_length=1, max_length=ATTRIBUTE_MAX_LENGTH), AfterValidator(_uri_reference)
]
NonEmpty = Annotated[str, Field(min_length=1, max_length=ATTRIBUTE_MAX_LENGTH)]


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """What is handed to (and read from) Kafka: key, value and headers, all bytes."""

    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event whose data is a JSON object, with Kairos' two extensions.

    `correlationid` follows one request through every service's events and logs;
    `partitionkey` is the aggregate id and becomes the Kafka key.
    """

    # a JSON object cannot carry NaN or infinities: refuse them here rather than in `to_kafka`
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    id: NonEmpty
    source: UriReference
    type: NonEmpty
    specversion: Literal["1.0"] = SPECVERSION
    time: Annotated[AwareDatetime, AfterValidator(_to_utc)]
    subject: NonEmpty | None = None
    datacontenttype: Literal["application/json"] = JSON_CONTENT_TYPE
    dataschema: UriReference | None = None
    correlationid: NonEmpty | None = None
    partitionkey: NonEmpty
    data: dict[str, JsonValue]

    def to_kafka(self) -> KafkaRecord:
        """The binary-mode Kafka record of this event: deterministic bytes for equal events."""
        attributes = self.model_dump(include=set(REQUIRED_ATTRIBUTES + OPTIONAL_ATTRIBUTES))
        attributes["time"] = format_time(self.time)
        headers = [
            (HEADER_PREFIX + name, str(attributes[name]).encode())
            for name in REQUIRED_ATTRIBUTES + OPTIONAL_ATTRIBUTES
            if attributes[name] is not None
        ]
        headers.append((CONTENT_TYPE_HEADER, self.datacontenttype.encode()))
        value = json.dumps(
            self.data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
        )
        return KafkaRecord(self.partitionkey.encode(), value.encode(), tuple(headers))

    @classmethod
    def from_kafka(
        cls, key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> "CloudEvent":
        """Read a binary-mode record; raise `InvalidCloudEventError` saying what is wrong."""
        attributes = _read_headers(headers)
        _check_specversion(attributes)
        fields: dict[str, Any] = {
            **attributes,
            "time": parse_time(attributes["time"]),
            "partitionkey": _read_key(key),
            "data": _read_value(value),
        }
        try:
            return cls.model_validate(fields)
        except ValidationError as error:
            raise InvalidCloudEventError(_describe(error)) from None


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, microseconds only when there are some."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """Parse the `ce_time` header (RFC 3339; digits past microseconds are truncated)."""
    if not _RFC3339.fullmatch(text):
        raise InvalidCloudEventError(f"header ce_time {text!r} is not an RFC 3339 date-time")
    try:
        return datetime.fromisoformat(text.upper()).astimezone(UTC)
    except ValueError as error:
        raise InvalidCloudEventError(
            f"header ce_time {text!r} is not a valid date-time: {error}"
        ) from None


def _read_headers(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    """The CloudEvents attributes found in the headers, by attribute name, decoded."""
    wanted = {HEADER_PREFIX + name: name for name in REQUIRED_ATTRIBUTES + OPTIONAL_ATTRIBUTES}
    wanted[CONTENT_TYPE_HEADER] = "datacontenttype"
    attributes: dict[str, str] = {}
    for header, raw in headers:
        name = wanted.get(header)
        if name is None:
            continue
        if name in attributes:
            raise InvalidCloudEventError(f"header {header} appears more than once")
        if len(raw) > ATTRIBUTE_MAX_LENGTH:
            raise InvalidCloudEventError(
                f"header {header} is {len(raw)} bytes long: at most {ATTRIBUTE_MAX_LENGTH}"
            )
        try:
            attributes[name] = raw.decode()
        except UnicodeDecodeError:
            raise InvalidCloudEventError(f"header {header} is not UTF-8") from None
    for name in (*REQUIRED_ATTRIBUTES, "datacontenttype"):
        if name not in attributes:
            header = CONTENT_TYPE_HEADER if name == "datacontenttype" else HEADER_PREFIX + name
            raise InvalidCloudEventError(f"missing header {header}")
    attributes["datacontenttype"] = _media_type(attributes["datacontenttype"])
    return attributes


def _media_type(content_type: str) -> str:
    """`application/json; charset=utf-8` is JSON too; anything else is refused."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != JSON_CONTENT_TYPE:
        raise InvalidCloudEventError(
            f"header {CONTENT_TYPE_HEADER} is {content_type!r}:"
            f" only {JSON_CONTENT_TYPE} is supported"
        )
    return media_type


def _check_specversion(attributes: dict[str, str]) -> None:
    if attributes["specversion"] != SPECVERSION:
        raise InvalidCloudEventError(
            f"unsupported specversion {attributes['specversion']!r} in header ce_specversion:"
            f" only {SPECVERSION} is supported"
        )


def _read_key(key: bytes | None) -> str:
    if not key:
        raise InvalidCloudEventError(
            "key missing: the Kafka key carries the partitionkey (the aggregate id)"
        )
    if len(key) > ATTRIBUTE_MAX_LENGTH:
        raise InvalidCloudEventError(
            f"key is {len(key)} bytes long: the partitionkey is at most {ATTRIBUTE_MAX_LENGTH}"
        )
    try:
        return key.decode()
    except UnicodeDecodeError:
        raise InvalidCloudEventError("key is not UTF-8") from None


def _reject_constant(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _read_value(value: bytes | None) -> dict[str, Any]:
    if value is None:
        raise InvalidCloudEventError("value missing (a tombstone?): the data must be a JSON object")
    try:
        data = json.loads(value.decode(), parse_constant=_reject_constant)
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidCloudEventError(f"value is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise InvalidCloudEventError(f"value is not a JSON object: got {_json_kind(data)}")
    return data


def _json_kind(data: object) -> str:
    kinds = {
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }
    return "null" if data is None else kinds.get(type(data), type(data).__name__)


def _where(location: tuple[int | str, ...]) -> str:
    """The part of the Kafka record a model field comes from."""
    field = str(location[0]) if location else ""
    if field == "partitionkey":
        return "key"
    if field == "data":
        return "value" + "".join(f"[{part!r}]" for part in location[1:])
    if field == "datacontenttype":
        return f"header {CONTENT_TYPE_HEADER}"
    return f"header {HEADER_PREFIX}{field}"


def _describe(error: ValidationError) -> str:
    return "; ".join(f"{_where(item['loc'])}: {item['msg']}" for item in error.errors())
