"""K1: an organisation's SIRET and NDA are checked when it asks to join."""

import dataclasses
import random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.fr import siret as stdnum_siret

from kairos_identity.domain.organisation_identifiers import (
    LA_POSTE_SIREN,
    NDA_REGION_NAMES,
    InvalidIdentifierError,
    Nda,
    Siret,
)


def _luhn_completed(digits: str) -> str:
    return digits + luhn.calc_check_digit(digits)


def valid_siret_for_tests(seed: int) -> str:
    """A valid SIRET outside La Poste: a Luhn-valid SIREN, a NIC, a final Luhn digit."""
    rng = random.Random(seed)
    siren = LA_POSTE_SIREN
    while siren == LA_POSTE_SIREN:
        siren = _luhn_completed(f"{rng.randrange(10**8):08d}")
    return _luhn_completed(f"{siren}{rng.randrange(10**4):04d}")


def _refusal(text: str, parse: type[Siret] | type[Nda]) -> InvalidIdentifierError:
    with pytest.raises(InvalidIdentifierError) as caught:
        parse.parse(text)
    return caught.value


# SIRET


def test_a_valid_siret_is_parsed_and_exposes_its_siren() -> None:
    siret = Siret.parse("73282932000074")

    assert siret.value == "73282932000074"
    assert str(siret) == "73282932000074"
    assert siret.siren == "732829320"


@pytest.mark.parametrize(
    "typed",
    [
        "732 829 320 00074",
        " 73282932000074 ",
        "732\u00a0829\u00a0320\u00a000074",
        "732\u202f829\u202f32000074",
    ],
)
def test_spaces_between_siret_digit_groups_are_ignored(typed: str) -> None:
    assert Siret.parse(typed) == Siret("73282932000074")


def test_the_constructor_takes_only_the_compact_form() -> None:
    with pytest.raises(InvalidIdentifierError) as caught:
        Siret("732 829 320 00074")

    assert caught.value.field == "siret"


@pytest.mark.parametrize(
    ("typed", "count"), [("7328293200007", 13), ("732829320000740", 15), ("", 0)]
)
def test_a_siret_of_the_wrong_length_is_refused_with_its_length(typed: str, count: int) -> None:
    error = _refusal(typed, Siret)

    assert error.field == "siret"
    assert str(error) == f"SIRET must be 14 digits, got {count}"
    assert error.message == str(error)


@pytest.mark.parametrize("typed", ["7328293200007A", "732-829-320-00074", "٧٣٢٨٢٩٣٢٠٠٠٠٧٤"])
def test_a_siret_with_other_than_ascii_digits_is_refused(typed: str) -> None:
    error = _refusal(typed, Siret)

    assert error.field == "siret"
    assert str(error) == "SIRET must contain only digits (spaces between groups are allowed)"


def test_a_siret_failing_luhn_is_refused_naming_the_number() -> None:
    error = _refusal("73282932000075", Siret)

    assert str(error) == "SIRET 73282932000075 fails its checksum (Luhn)"


def test_a_siret_whose_siren_fails_luhn_is_refused_naming_the_siren() -> None:
    bad_siren = "732829321"
    assert not luhn.is_valid(bad_siren)
    number = _luhn_completed(f"{bad_siren}0007")

    error = _refusal(number, Siret)

    assert str(error) == (
        f"SIREN 732829321 (the first 9 digits of SIRET {number}) fails its checksum (Luhn)"
    )


@pytest.mark.parametrize("number", ["35600000000001", "35600000000010", "35600000049837"])
def test_la_poste_sirets_follow_the_digit_sum_rule_instead_of_luhn(number: str) -> None:
    assert not luhn.is_valid(number)
    assert sum(map(int, number)) % 5 == 0

    assert Siret.parse(number).siren == LA_POSTE_SIREN


def test_la_poste_head_office_siret_is_valid() -> None:
    assert Siret.parse("35600000000048").value == "35600000000048"


def test_a_la_poste_siret_whose_digit_sum_is_not_a_multiple_of_5_is_refused() -> None:
    error = _refusal("35600000000002", Siret)

    assert str(error) == (
        "SIRET 35600000000002 fails its checksum "
        "(La Poste: the sum of its digits must be a multiple of 5)"
    )


def test_a_siret_is_an_immutable_value() -> None:
    siret = Siret.parse("73282932000074")

    with pytest.raises(dataclasses.FrozenInstanceError):
        siret.value = "35600000000048"  # type: ignore[misc]  # the point: it cannot be assigned
    assert siret == Siret("73282932000074")
    assert hash(siret) == hash(Siret("73282932000074"))


def test_invalid_identifier_error_is_a_value_error() -> None:
    assert issubclass(InvalidIdentifierError, ValueError)


@given(st.integers(min_value=0, max_value=2**32))
def test_generated_sirets_always_parse(seed: int) -> None:
    number = valid_siret_for_tests(seed)
    assert stdnum_siret.is_valid(number)

    assert Siret.parse(number).siren == number[:9]


@given(
    st.integers(min_value=0, max_value=2**32),
    st.integers(min_value=0, max_value=13),
    st.integers(min_value=1, max_value=9),
)
def test_any_one_digit_change_of_a_siret_outside_la_poste_is_refused(
    seed: int, position: int, shift: int
) -> None:
    number = valid_siret_for_tests(seed)
    changed_digit = str((int(number[position]) + shift) % 10)
    changed = number[:position] + changed_digit + number[position + 1 :]
    assume(not changed.startswith(LA_POSTE_SIREN))

    with pytest.raises(InvalidIdentifierError):
        Siret.parse(changed)


# NDA


@pytest.mark.parametrize(("code", "name"), sorted(NDA_REGION_NAMES.items()))
def test_an_nda_of_each_current_region_is_accepted(code: str, name: str) -> None:
    nda = Nda.parse(f"{code}751234575")

    assert nda.value == f"{code}751234575"
    assert str(nda) == nda.value
    assert nda.region_code == code
    assert nda.region_name == name


def test_the_nda_region_codes_are_the_current_regions_and_the_old_ones() -> None:
    assert len(NDA_REGION_NAMES) == 18 + 16  # 18 regions since 2016, 16 codes of before
    assert NDA_REGION_NAMES["11"] == "Île-de-France"
    assert NDA_REGION_NAMES["82"] == "Rhône-Alpes (before 2016)"  # old NDAs keep their code
    assert NDA_REGION_NAMES["84"] == "Auvergne-Rhône-Alpes"
    assert NDA_REGION_NAMES["06"] == "Mayotte"


def test_spaces_between_nda_digit_groups_are_ignored() -> None:
    assert Nda.parse("11 75 12345 75") == Nda("11751234575")


@pytest.mark.parametrize("code", ["00", "05", "12", "50", "99"])
def test_an_nda_with_an_unknown_region_code_is_refused_naming_the_code(code: str) -> None:
    error = _refusal(f"{code}751234575", Nda)

    assert error.field == "nda"
    assert str(error) == (
        f"NDA {code}751234575 starts with {code}, "
        "which is not a region code used in activity declaration numbers"
    )


@pytest.mark.parametrize(("typed", "count"), [("1175123457", 10), ("117512345750", 12)])
def test_an_nda_of_the_wrong_length_is_refused_with_its_length(typed: str, count: int) -> None:
    error = _refusal(typed, Nda)

    assert error.field == "nda"
    assert str(error) == f"NDA must be 11 digits, got {count}"


def test_an_nda_with_letters_is_refused() -> None:
    error = _refusal("11 75 P2345 75", Nda)

    assert error.field == "nda"
    assert str(error) == "NDA must contain only digits (spaces between groups are allowed)"
