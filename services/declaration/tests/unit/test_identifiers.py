"""K16: job seekers by their France Travail identifier (a string), sessions by Carif-Oref
numbers."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos_declaration.domain.errors import DeclarationRejected, FieldProblem
from kairos_declaration.domain.identifiers import (
    is_france_travail_id,
    parse_carif_oref_number,
    parse_france_travail_id,
)

CONTRACT_PATTERN = re.compile(r"^[0-9]{7}[0-9A-Z]$")  # kairos_schemas.declaration.FranceTravailId
FORMAT = "a France Travail identifier is 7 digits then a letter or a digit (e.g. 1234567A); "
ARABIC_INDIC = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667"
LENGTH = "a France Travail identifier is 8 characters, 7 digits then a letter or a digit "


@pytest.mark.parametrize(
    ("typed", "identifier"),
    [
        ("1234567A", "1234567A"),
        ("12345678", "12345678"),
        ("0000001Z", "0000001Z"),
        ("1234567a", "1234567A"),
        (" 123 4567 a\t", "1234567A"),
        ("1234 567B", "1234567B"),
    ],
)
def test_an_identifier_is_kept_a_string_without_spaces_its_letter_upper_cased(
    typed: str, identifier: str
) -> None:
    assert parse_france_travail_id(typed) == identifier


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "the France Travail identifier is required (7 digits then a letter or a digit)"),
        ("   ", "the France Travail identifier is required (7 digits then a letter or a digit)"),
        ("1234567", LENGTH + "(e.g. 1234567A); '1234567' has 7"),
        ("123456789", LENGTH + "(e.g. 1234567A); '123456789' has 9"),
        ("123456AB", FORMAT + "'123456AB' is not"),
        ("A234567B", FORMAT + "'A234567B' is not"),
        ("1234567-", FORMAT + "'1234567-' is not"),
        ("1234567é", FORMAT + "'1234567é' is not"),
        ("1234567\u017f", FORMAT + "'1234567\u017f' is not"),  # long s upper-cases to S
        (ARABIC_INDIC + "A", FORMAT + f"'{ARABIC_INDIC}A' is not"),  # digits, but not 0-9
    ],
)
def test_anything_else_is_refused_saying_why(typed: str, message: str) -> None:
    with pytest.raises(DeclarationRejected) as refused:
        parse_france_travail_id(typed)
    assert refused.value.problems == (FieldProblem("trainee_id", message),)


def test_the_field_is_named_as_the_caller_says() -> None:
    with pytest.raises(DeclarationRejected) as refused:
        parse_france_travail_id("x", field="declarations[3].trainee_id")
    assert refused.value.fields == ("declarations[3].trainee_id",)


identifiers = st.from_regex(CONTRACT_PATTERN, fullmatch=True)


@given(identifiers)
def test_identifiers_round_trip(identifier: str) -> None:
    assert parse_france_travail_id(identifier) == identifier
    assert is_france_travail_id(identifier)


@given(identifiers, st.integers(min_value=0, max_value=8))
def test_spaces_and_lower_case_do_not_change_the_identifier(identifier: str, cut: int) -> None:
    typed = f" {identifier[:cut]} {identifier[cut:].lower()} "
    assert parse_france_travail_id(typed) == identifier


@given(st.text(max_size=12))
def test_whatever_is_accepted_matches_the_event_contract(text: str) -> None:
    try:
        identifier = parse_france_travail_id(text)
    except DeclarationRejected as refused:
        fields = refused.fields
    else:
        fields = ()
        assert CONTRACT_PATTERN.fullmatch(identifier)
    assert fields in {(), ("trainee_id",)}


def test_a_lower_case_identifier_is_not_canonical() -> None:
    assert not is_france_travail_id("1234567a")
    assert not is_france_travail_id("1234567")


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("14_SE_0000123456", "14_SE_0000123456"),
        ("  14_AF_0000012345 ", "14_AF_0000012345"),
        ("a-1", "a-1"),
        ("A" * 40, "A" * 40),
    ],
)
def test_carif_oref_numbers_are_kept_as_given_less_surrounding_spaces(
    typed: str, number: str
) -> None:
    assert parse_carif_oref_number(typed, "session_number") == number


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "the Carif-Oref number is required"),
        (" ", "the Carif-Oref number is required"),
        ("A" * 41, "a Carif-Oref number has at most 40 characters; this one has 41"),
        (
            "_14_SE",
            "a Carif-Oref number is letters, digits, '_' and '-', starting with a letter or a "
            "digit (e.g. 14_SE_0000123456); '_14_SE' is not",
        ),
        (
            "14 SE 1",
            "a Carif-Oref number is letters, digits, '_' and '-', starting with a letter or a "
            "digit (e.g. 14_SE_0000123456); '14 SE 1' is not",
        ),
    ],
)
def test_bad_carif_oref_numbers_are_refused_naming_the_field(typed: str, message: str) -> None:
    with pytest.raises(DeclarationRejected) as refused:
        parse_carif_oref_number(typed, "action_number")
    assert refused.value.problems == (FieldProblem("action_number", message),)
