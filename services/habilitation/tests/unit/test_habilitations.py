"""K11-K13: nominative habilitations backed by a signed authorisation, activated, ended."""

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any, get_args

import pytest

from kairos_habilitation.domain.habilitations import (
    EndReason,
    HabilitatedPerson,
    Habilitation,
    HabilitationRole,
    HabilitationStateError,
    HabilitationStatus,
    InvalidHabilitationError,
    SignedAuthorisation,
    account_opened,
    end,
    record_habilitation,
)
from kairos_schemas.habilitation import EndReason as ContractEndReason
from kairos_shared.zones import Zone

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SHA = "a" * 64
PERSON = HabilitatedPerson("Ada", "Lovelace", "ada@of.example")
AUTHORISATION = SignedAuthorisation("Grace Hopper", date(2025, 3, 1), SHA)


def signed(by: str = "G", on: date = date(2025, 3, 1), sha: str = SHA) -> SignedAuthorisation:
    return SignedAuthorisation(by, on, sha)


def record(**overrides: Any) -> Habilitation:
    arguments: dict[str, Any] = {
        "role": HabilitationRole.USER,
        "person": PERSON,
        "function": "Formatrice",
        "authorisation": AUTHORISATION,
        "employee_attested": True,
        "recorded_by": "rgc-1",
        "recorded_at": T0,
    } | overrides
    return record_habilitation("hab-1", "of-1", **arguments)


def test_a_valid_habilitation_is_recorded_pending_its_account() -> None:
    habilitation = record()
    assert habilitation.status is HabilitationStatus.PENDING_ACCOUNT
    assert habilitation.account_id is None
    assert habilitation.authorisation == AUTHORISATION
    assert habilitation.ended_at is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"authorisation": signed(sha="A" * 64)}, "authorisation.document_sha256"),
        ({"authorisation": signed(sha="a" * 63)}, "authorisation.document_sha256"),
        ({"authorisation": signed(sha="g" * 64)}, "authorisation.document_sha256"),
        ({"authorisation": signed(on=date(2025, 3, 4))}, "authorisation.signed_on"),
        ({"authorisation": signed(by=" ")}, "authorisation.signed_by"),
        ({"employee_attested": False}, "employee_attested"),
        ({"person": HabilitatedPerson("", "L", "a@b.fr")}, "person.first_name"),
        ({"person": HabilitatedPerson("A", " ", "a@b.fr")}, "person.last_name"),
        ({"person": HabilitatedPerson("A", "L", "not-an-address")}, "person.email"),
        ({"function": "  "}, "function"),
        ({"recorded_by": ""}, "recorded_by"),
    ],
)
def test_invalid_inputs_are_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidHabilitationError) as refused:
        record(**overrides)
    assert refused.value.field == field
    assert str(refused.value).startswith(field)


def test_a_signature_on_the_recording_day_is_accepted_in_the_organisations_zone() -> None:
    late_evening = datetime(2025, 3, 3, 23, 30, tzinfo=UTC)  # already 4 March in Paris
    authorisation = SignedAuthorisation("G", date(2025, 3, 4), SHA)
    assert record(authorisation=authorisation, recorded_at=late_evening).authorisation.signed_on
    reunion = datetime(2025, 3, 3, 20, 30, tzinfo=UTC)  # 4 March, 00:30 in La Réunion
    assert record(authorisation=authorisation, recorded_at=reunion, zone=Zone.LA_REUNION)
    with pytest.raises(InvalidHabilitationError, match="after the recording day 2025-03-03"):
        record(authorisation=authorisation, recorded_at=reunion)  # 21:30 in Paris


def test_a_signature_dated_tomorrow_in_guadeloupe_is_refused_though_it_is_today_in_paris() -> None:
    evening = datetime(2025, 6, 2, 22, 30, tzinfo=UTC)  # 18:30 there; 3 June, 00:30 in Paris
    authorisation = SignedAuthorisation("G", date(2025, 6, 3), SHA)
    assert record(authorisation=authorisation, recorded_at=evening)
    with pytest.raises(InvalidHabilitationError, match="after the recording day 2025-06-02"):
        record(authorisation=authorisation, recorded_at=evening, zone=Zone.GUADELOUPE)


def test_a_naive_recording_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        record(recorded_at=datetime(2025, 3, 3))  # noqa: DTZ001  # the naive input under test


def test_blank_ids_are_refused() -> None:
    with pytest.raises(InvalidHabilitationError) as refused:
        record_habilitation(
            " ",
            "of-1",
            role=HabilitationRole.HEAD,
            person=PERSON,
            function="Directeur",
            authorisation=AUTHORISATION,
            employee_attested=True,
            recorded_by="rgc-1",
            recorded_at=T0,
        )
    assert refused.value.field == "habilitation_id"


def test_the_account_makes_it_active_idempotently() -> None:
    active = account_opened(record(), "acc-1")
    assert active.status is HabilitationStatus.ACTIVE
    assert active.account_id == "acc-1"
    assert account_opened(active, "acc-1") == active


def test_another_account_cannot_take_an_active_habilitation() -> None:
    with pytest.raises(HabilitationStateError, match="already held"):
        account_opened(account_opened(record(), "acc-1"), "acc-2")
    with pytest.raises(InvalidHabilitationError):
        account_opened(record(), " ")


def test_an_ended_habilitation_cannot_be_activated() -> None:
    ended = end(record(), EndReason.DEPARTURE, T0)
    with pytest.raises(HabilitationStateError, match="ended"):
        account_opened(ended, "acc-1")


@pytest.mark.parametrize("reason", list(EndReason))
def test_active_and_pending_habilitations_end(reason: EndReason) -> None:
    for habilitation in (record(), account_opened(record(), "acc-1")):
        ended = end(habilitation, reason, T0 + timedelta(days=1))
        assert ended.status is HabilitationStatus.ENDED
        assert ended.end_reason is reason
        assert ended.ended_at == T0 + timedelta(days=1)
        assert ended.account_id == habilitation.account_id


def test_ending_twice_is_refused_clearly() -> None:
    ended = end(record(), EndReason.BREACH_OF_TERMS, T0)
    with pytest.raises(HabilitationStateError, match="already ended"):
        end(ended, EndReason.DEPARTURE, T0 + timedelta(days=1))


def test_ending_before_the_recording_or_at_a_naive_instant_is_refused() -> None:
    with pytest.raises(InvalidHabilitationError) as refused:
        end(record(), EndReason.DEPARTURE, T0 - timedelta(seconds=1))
    assert refused.value.field == "ended_at"
    with pytest.raises(ValueError, match="aware"):
        end(record(), EndReason.DEPARTURE, datetime(2025, 3, 4))  # noqa: DTZ001  # the naive input under test


def test_end_reasons_are_exactly_those_of_the_event_contract() -> None:
    assert {reason.value for reason in EndReason} == set(get_args(ContractEndReason))


def test_a_habilitation_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        record().status = HabilitationStatus.ACTIVE  # type: ignore[misc]  # proving it is frozen
