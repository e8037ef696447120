"""Folding names and passwords for comparison (K7, K11)."""

import pytest

from kairos_identity.domain.text_folding import ascii_letters, fold, name_words


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Éloïse", "eloise"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),
        ("Œuvre", "oeuvre"),
        ("Bjørn Łukasz", "bjorn lukasz"),
        ("ﬁne", "fine"),
        ("王伟", "王伟"),
    ],
)
def test_fold_lowercases_and_strips_accents(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_ascii_letters_keeps_only_a_to_z() -> None:
    assert ascii_letters("D'Artagnan-3 王") == "dartagnan"


def test_name_words_splits_on_anything_but_letters() -> None:
    assert name_words("Jean-Pierre de l'Étang 2") == ["jean", "pierre", "de", "l", "etang"]
    assert name_words("") == []
