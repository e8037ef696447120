"""K5, K11: the platform generates each person's login id from their name."""

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos_identity.domain.login_ids import (
    FALLBACK_BASE,
    MAX_BASE_LENGTH,
    login_id_base,
    login_id_candidates,
)


def first_candidates(first_name: str, last_name: str, count: int = 3) -> list[str]:
    return list(itertools.islice(login_id_candidates(first_name, last_name), count))


def test_candidates_are_the_initial_and_last_name_then_numbered() -> None:
    assert first_candidates("Jean", "Dupont", 4) == ["jdupont", "jdupont2", "jdupont3", "jdupont4"]


@pytest.mark.parametrize(
    ("first_name", "last_name", "base"),
    [
        ("Éloïse", "Lefèvre", "elefevre"),
        ("Jean-Pierre", "Dupont", "jpdupont"),
        ("Marie Ange", "D'Artagnan", "madartagnan"),
        ("Zoé", "de La Fontaine", "zdelafontaine"),
        ("Bjørn", "Œuvray", "boeuvray"),
        ("Fiona", "Straße", "fstrasse"),
        ("  jean  ", "  DUPONT ", "jdupont"),
        ("Jean3", "Dupont 2", "jdupont"),
    ],
)
def test_names_are_folded_to_lowercase_ascii_letters(
    first_name: str, last_name: str, base: str
) -> None:
    assert login_id_base(first_name, last_name) == base


def test_long_names_are_cut_to_the_maximum_length() -> None:
    base = login_id_base("Jean-Pierre", "de La Fontaine-Saint-Hilaire")

    assert base == "jpdelafontainesa"
    assert len(base) == MAX_BASE_LENGTH
    assert first_candidates("Jean-Pierre", "de La Fontaine-Saint-Hilaire", 2)[1] == base + "2"


@pytest.mark.parametrize(
    ("first_name", "last_name", "base"),
    [("A", "B", "ab"), ("Li", "Wu", "lwu"), ("", "Li", "li"), ("Ana", "", "ana")],
)
def test_short_names_and_single_names_still_give_an_id(
    first_name: str, last_name: str, base: str
) -> None:
    assert login_id_base(first_name, last_name) == base


@pytest.mark.parametrize(("first_name", "last_name"), [("", ""), ("王", "伟"), ("-", "'")])
def test_names_without_a_latin_letter_fall_back_to_user(first_name: str, last_name: str) -> None:
    assert FALLBACK_BASE == "user"
    assert first_candidates(first_name, last_name) == ["user", "user2", "user3"]


@given(st.text(max_size=40), st.text(max_size=40))
def test_login_ids_are_always_non_empty_lowercase_ascii(first_name: str, last_name: str) -> None:
    candidates = first_candidates(first_name, last_name, 5)

    assert len(set(candidates)) == 5
    assert re.fullmatch(r"[a-z]{1,16}", candidates[0])
    for number, candidate in enumerate(candidates[1:], start=2):
        assert candidate == f"{candidates[0]}{number}"
        assert candidate.isascii()
        assert candidate == candidate.lower()
