"""Properties of the validators hostile input meets first, beyond the services' unit tests:
on arbitrary text each either gives a value in canonical form (which reads back as itself) or
raises its one documented refusal naming the field, never any other exception; and checksums
catch the mutations they are meant to catch (La Poste's digit sum included).

SIRET and NDA (identity, K1), the France Travail identifier and Carif-Oref numbers, months and
hours (declaration, K16, K19).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.fr import siret as stdnum_siret

from kairos_declaration.domain.allowance import format_hours
from kairos_declaration.domain.errors import DeclarationRejected
from kairos_declaration.domain.identifiers import (
    is_france_travail_id,
    parse_carif_oref_number,
    parse_france_travail_id,
)
from kairos_declaration.domain.months import Month
from kairos_identity.domain.organisation_identifiers import (
    LA_POSTE_SIREN,
    NDA_REGION_NAMES,
    InvalidIdentifierError,
    Nda,
    Siret,
)

pytestmark = [pytest.mark.security]

T = TypeVar("T")
E = TypeVar("E", bound=Exception)

# Text people (and attackers) type: digits and spaces often, anything at all sometimes.
typed = st.one_of(
    st.text(st.sampled_from("0123456789 \u00a0\u202f\t-٣"), max_size=20),
    st.text(max_size=30),
)
whitespace = st.text(st.sampled_from(" \u00a0\u202f\t\n\u2009\u3000"), max_size=3)


def _attempt(call: Callable[[], T], refusal: type[E]) -> T | E:
    """What `call` gives, or the refusal it raises (any other exception fails the test)."""
    try:
        return call()
    except refusal as error:
        return error


def _luhn_completed(digits: str) -> str:
    return digits + luhn.calc_check_digit(digits)


@st.composite
def sirets(draw: st.DrawFn) -> str:
    """A valid SIRET outside La Poste."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    siren = LA_POSTE_SIREN
    while siren == LA_POSTE_SIREN:
        siren = _luhn_completed(f"{rng.randrange(10**8):08d}")
    return _luhn_completed(f"{siren}{rng.randrange(10**4):04d}")


@st.composite
def la_poste_sirets(draw: st.DrawFn) -> str:
    """A valid La Poste SIRET: SIREN 356000000, digits summing to a multiple of 5."""
    nic = draw(st.integers(0, 9999))
    body = f"{LA_POSTE_SIREN}{nic:04d}"
    last = next(d for d in range(10) if (sum(map(int, body)) + d) % 5 == 0)
    return f"{body}{last}"


def _spaced(number: str, cuts: list[tuple[int, str]]) -> str:
    for position, space in sorted(cuts, reverse=True):
        index = position % (len(number) + 1)
        number = number[:index] + space + number[index:]
    return number


# ---- SIRET ---------------------------------------------------------------------------------


@given(typed)
@example("")
@example("٧٣٢٨٢٩٣٢٠٠٠٠٧٤")
def test_any_text_is_a_canonical_siret_or_refused_naming_the_siret(text: str) -> None:
    siret = _attempt(lambda: Siret.parse(text), InvalidIdentifierError)
    if isinstance(siret, InvalidIdentifierError):
        assert siret.field == "siret"
        assert str(siret)
        return
    assert len(siret.value) == 14
    assert siret.value.isascii()
    assert siret.value.isdigit()
    assert stdnum_siret.is_valid(siret.value)
    assert Siret.parse(str(siret)) == siret == Siret(siret.value)


@given(st.one_of(sirets(), la_poste_sirets()), st.lists(st.tuples(st.integers(0, 20), whitespace)))
def test_whitespace_anywhere_reads_as_the_same_siret(
    number: str, cuts: list[tuple[int, str]]
) -> None:
    assert Siret.parse(_spaced(number, cuts)) == Siret(number)


@given(la_poste_sirets(), st.integers(9, 13), st.integers(1, 9))
def test_a_la_poste_siret_with_a_digit_changed_off_the_multiple_of_5_is_refused(
    number: str, position: int, shift: int
) -> None:
    assume(shift != 5)  # +5 keeps the digit sum a multiple of 5: the rule cannot see it
    digit = (int(number[position]) + shift) % 10
    assume((digit - int(number[position])) % 5 != 0)
    changed = number[:position] + str(digit) + number[position + 1 :]

    with pytest.raises(InvalidIdentifierError, match="La Poste"):
        Siret.parse(changed)


@given(sirets(), st.integers(0, 12))
def test_swapping_two_adjacent_digits_of_a_siret_is_refused(number: str, position: int) -> None:
    pair = number[position : position + 2]
    assume(pair[0] != pair[1])
    assume(set(pair) != {"0", "9"})  # the one swap Luhn cannot see
    changed = number[:position] + pair[::-1] + number[position + 2 :]
    assume(not changed.startswith(LA_POSTE_SIREN))

    with pytest.raises(InvalidIdentifierError):
        Siret.parse(changed)


# ---- NDA -----------------------------------------------------------------------------------


@given(typed)
def test_any_text_is_a_canonical_nda_or_refused_naming_the_nda(text: str) -> None:
    nda = _attempt(lambda: Nda.parse(text), InvalidIdentifierError)
    if isinstance(nda, InvalidIdentifierError):
        assert nda.field == "nda"
        return
    assert len(nda.value) == 11
    assert nda.value.isascii()
    assert nda.value.isdigit()
    assert nda.region_code in NDA_REGION_NAMES
    assert Nda.parse(str(nda)) == nda


@given(
    st.sampled_from(sorted(NDA_REGION_NAMES)),
    st.integers(0, 10**9 - 1),
    st.lists(st.tuples(st.integers(0, 20), whitespace)),
)
def test_every_nda_of_a_known_region_reads_back_with_any_spacing(
    code: str, rest: int, cuts: list[tuple[int, str]]
) -> None:
    number = f"{code}{rest:09d}"
    nda = Nda.parse(_spaced(number, cuts))
    assert nda.value == number
    assert nda.region_name == NDA_REGION_NAMES[code]


# ---- France Travail identifier, Carif-Oref numbers ----------------------------------------


@given(st.text(max_size=20), st.text(st.characters(categories=["L", "N", "Pc"]), min_size=1))
def test_any_text_is_a_canonical_france_travail_id_or_refused_naming_the_given_field(
    text: str, field: str
) -> None:
    identifier = _attempt(lambda: parse_france_travail_id(text, field), DeclarationRejected)
    if isinstance(identifier, DeclarationRejected):
        assert identifier.fields == (field,)
        return
    assert is_france_travail_id(identifier)
    assert identifier.isascii()
    assert parse_france_travail_id(identifier) == identifier
    assert parse_france_travail_id(identifier.lower()) == identifier


@given(st.text(max_size=50))
@example(" 14_SE_0000123456 ")
@example("x" * 41)
def test_any_text_is_a_carif_oref_number_kept_as_given_or_refused(text: str) -> None:
    number = _attempt(
        lambda: parse_carif_oref_number(text, "session.session_number"), DeclarationRejected
    )
    if isinstance(number, DeclarationRejected):
        assert number.fields == ("session.session_number",)
        return
    assert number == text.strip()
    assert 1 <= len(number) <= 40
    assert number.isascii()
    assert parse_carif_oref_number(number, "f") == number
    assert not any(quote in number for quote in "'\";\\% ")


# ---- months and hours ----------------------------------------------------------------------


@given(st.one_of(st.text(max_size=12), st.from_regex(r"[0-9]{4}-[0-9]{2}", fullmatch=True)))
@example("2026-13")
@example("0000-01")
@example("٢٠٢٦-٠٣")
def test_any_text_is_a_month_written_back_the_same_or_refused_naming_month(text: str) -> None:
    month = _attempt(lambda: Month.parse(text), DeclarationRejected)
    if isinstance(month, DeclarationRejected):
        assert month.fields == ("month",)
        return
    assert str(month) == text.strip()
    assert Month.parse(str(month)) == month
    assert month.first_day <= month.last_day


@given(st.integers(1, 9999), st.integers(1, 12))
def test_every_month_round_trips(year: int, number: int) -> None:
    month = Month(year, number)
    assert Month.parse(str(month)) == month


@given(st.decimals(min_value=0, max_value=744, places=2, allow_nan=False, allow_infinity=False))
def test_hours_are_written_without_exponent_and_read_back_exactly(hours: Decimal) -> None:
    written = format_hours(hours)
    assert "E" not in written.upper()
    assert Decimal(written) == hours
    assert written == format_hours(Decimal(written))
