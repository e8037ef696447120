"""The CloudEvents envelope in Kafka binary mode: exact round trip, precise errors."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from kairos_schemas import CloudEvent, InvalidCloudEventError, KafkaRecord

URI_CHARACTERS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+,;=%"
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
offsets = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
)
moments = st.datetimes(
    # hypothesis takes naive bounds and attaches a zone drawn from `timezones`
    min_value=datetime(1970, 1, 2),  # noqa: DTZ001 -- naive on purpose, see above
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001 -- naive on purpose, see above
    timezones=offsets,
)
uri_references = st.text(alphabet=URI_CHARACTERS, min_size=1)
optional_text = st.none() | st.text(min_size=1)


def identity_event(**overrides: object) -> CloudEvent:
    fields: dict[str, object] = {
        "id": "4b8e0c0e-7f0a-4b7e-9c1e-0d7c2a1f5b10",
        "source": "/kairos/identity",
        "type": "fr.kairos.identity.test-only-account-created.v1",
        "time": datetime(2025, 3, 4, 10, 30, 0, 123456, tzinfo=UTC),
        "partitionkey": "account-42",
        "data": {"account_id": "account-42", "nom": "Zoé Müller"},
    }
    return CloudEvent.model_validate(fields | overrides)


def record_with(record: KafkaRecord, **header_values: bytes | None) -> list[tuple[str, bytes]]:
    """The record's headers with some replaced (a value) or removed (None)."""
    headers = [(name, value) for name, value in record.headers if name not in header_values]
    return headers + [(name, value) for name, value in header_values.items() if value is not None]


cloud_events = st.builds(
    CloudEvent,
    id=st.text(min_size=1),
    source=uri_references,
    type=st.text(min_size=1),
    time=moments,
    subject=optional_text,
    dataschema=st.none() | uri_references,
    correlationid=optional_text,
    partitionkey=st.text(min_size=1),
    data=st.dictionaries(st.text(), json_values, max_size=5),
)


@given(cloud_events)
def test_an_event_survives_the_kafka_round_trip_exactly(event: CloudEvent) -> None:
    record = event.to_kafka()

    assert CloudEvent.from_kafka(record.key, record.value, record.headers) == event
    assert event.to_kafka() == record


def test_to_kafka_writes_binary_mode_headers_key_and_compact_json() -> None:
    record = identity_event(correlationid="req-7").to_kafka()

    assert record == KafkaRecord(
        key=b"account-42",
        value='{"account_id":"account-42","nom":"Zoé Müller"}'.encode(),
        headers=(
            ("ce_specversion", b"1.0"),
            ("ce_id", b"4b8e0c0e-7f0a-4b7e-9c1e-0d7c2a1f5b10"),
            ("ce_source", b"/kairos/identity"),
            ("ce_type", b"fr.kairos.identity.test-only-account-created.v1"),
            ("ce_time", b"2025-03-04T10:30:00.123456Z"),
            ("ce_correlationid", b"req-7"),
            ("content-type", b"application/json"),
        ),
    )


def test_time_is_normalised_to_utc() -> None:
    paris_summer = timezone(timedelta(hours=2))
    event = identity_event(time=datetime(2025, 7, 1, 9, 0, tzinfo=paris_summer))

    assert event.time == datetime(2025, 7, 1, 7, 0, tzinfo=UTC)
    assert event.time.tzinfo is UTC
    assert dict(event.to_kafka().headers)["ce_time"] == b"2025-07-01T07:00:00Z"


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        identity_event(time=datetime(2025, 7, 1, 9, 0))  # noqa: DTZ001 -- the naive time is the point


def test_a_source_that_is_not_a_uri_reference_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a URI-reference"):
        identity_event(source="kairos identity")


def test_non_finite_numbers_are_refused_in_data() -> None:
    with pytest.raises(ValidationError, match="finite number"):
        identity_event(data={"hours": float("nan")})


def test_from_kafka_ignores_other_headers_and_unknown_extensions() -> None:
    event = identity_event()
    record = event.to_kafka()
    headers = [
        ("kairos_dlq_error", b"\xff not even utf-8"),
        ("traceparent", b"00-abc-def-01"),
        ("ce_someextension", b"whatever"),
        *record.headers,
    ]

    assert CloudEvent.from_kafka(record.key, record.value, headers) == event


@pytest.mark.parametrize(
    ("ce_time", "expected"),
    [
        (b"2025-03-04t10:30:00z", datetime(2025, 3, 4, 10, 30, tzinfo=UTC)),
        (b"2025-03-04T12:30:00+02:00", datetime(2025, 3, 4, 10, 30, tzinfo=UTC)),
        (b"2025-03-04T10:30:00.123456789Z", datetime(2025, 3, 4, 10, 30, 0, 123456, tzinfo=UTC)),
    ],
)
def test_from_kafka_reads_any_rfc3339_time(ce_time: bytes, expected: datetime) -> None:
    record = identity_event().to_kafka()

    event = CloudEvent.from_kafka(record.key, record.value, record_with(record, ce_time=ce_time))

    assert event.time == expected


def test_from_kafka_accepts_a_json_content_type_with_parameters() -> None:
    record = identity_event().to_kafka()
    headers = record_with(record, **{"content-type": b"application/json; charset=utf-8"})

    assert CloudEvent.from_kafka(record.key, record.value, headers) == identity_event()


@pytest.mark.parametrize("header", ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time"])
def test_from_kafka_names_a_missing_required_header(header: str) -> None:
    record = identity_event().to_kafka()

    with pytest.raises(InvalidCloudEventError, match=f"^missing header {header}$"):
        CloudEvent.from_kafka(record.key, record.value, record_with(record, **{header: None}))


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"content-type": None}, "missing header content-type"),
        (
            {"content-type": b"text/plain"},
            "header content-type is 'text/plain': only application/json is supported",
        ),
        (
            {"ce_specversion": b"0.3"},
            "unsupported specversion '0.3' in header ce_specversion: only 1.0 is supported",
        ),
        ({"ce_time": b"2025-03-04"}, "header ce_time '2025-03-04' is not an RFC 3339 date-time"),
        (
            {"ce_time": b"20250304T103000Z"},
            "header ce_time '20250304T103000Z' is not an RFC 3339 date-time",
        ),
        (
            {"ce_time": b"2025-03-04T10:30:00"},
            "header ce_time '2025-03-04T10:30:00' is not an RFC 3339 date-time",
        ),
        (
            {"ce_time": b"2025-02-30T10:30:00Z"},
            "header ce_time '2025-02-30T10:30:00Z' is not a valid date-time: day is out of range",
        ),
        ({"ce_source": b"\xff\xfe"}, "header ce_source is not UTF-8"),
        ({"ce_id": b""}, "header ce_id: String should have at least 1 character"),
        ({"ce_source": b"a b"}, "header ce_source: Value error, 'a b' is not a URI-reference"),
    ],
)
def test_from_kafka_says_which_header_is_wrong(
    headers: dict[str, bytes | None], message: str
) -> None:
    record = identity_event().to_kafka()

    with pytest.raises(InvalidCloudEventError) as raised:
        CloudEvent.from_kafka(record.key, record.value, record_with(record, **headers))

    assert str(raised.value).startswith(message)


def test_from_kafka_refuses_a_repeated_header() -> None:
    record = identity_event().to_kafka()
    headers = [*record.headers, ("ce_type", b"fr.kairos.identity.other.v1")]

    with pytest.raises(InvalidCloudEventError, match=r"^header ce_type appears more than once$"):
        CloudEvent.from_kafka(record.key, record.value, headers)


@pytest.mark.parametrize("key", [None, b""])
def test_from_kafka_refuses_a_record_without_key(key: bytes | None) -> None:
    record = identity_event().to_kafka()

    with pytest.raises(InvalidCloudEventError, match=r"^key missing: the Kafka key carries"):
        CloudEvent.from_kafka(key, record.value, record.headers)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "value missing (a tombstone?): the data must be a JSON object"),
        (b"{not json", "value is not JSON: Expecting property name enclosed in double quotes"),
        (b"\xff", "value is not JSON: 'utf-8' codec can't decode byte 0xff"),
        (b'{"hours": NaN}', "value is not JSON: NaN is not JSON"),
        (b"[1, 2]", "value is not a JSON object: got an array"),
        (b'"text"', "value is not a JSON object: got a string"),
        (b"null", "value is not a JSON object: got null"),
    ],
)
def test_from_kafka_says_what_is_wrong_with_the_value(value: bytes | None, message: str) -> None:
    record = identity_event().to_kafka()

    with pytest.raises(InvalidCloudEventError) as raised:
        CloudEvent.from_kafka(record.key, value, record.headers)

    assert str(raised.value).startswith(message)


def test_invalid_cloud_event_error_is_a_value_error() -> None:
    assert issubclass(InvalidCloudEventError, ValueError)
