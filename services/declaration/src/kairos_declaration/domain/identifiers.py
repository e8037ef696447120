"""The identifiers declarations carry (K16): a job seeker's France Travail identifier, and the
Carif-Oref numbers of a training action and session.

A France Travail identifier is 8 characters, 7 digits then a letter or a digit (``1234567A``,
``12345678``). It stays a string: leading zeros are significant and the last character may be a
letter. What people type is accepted when it is unambiguous: spaces anywhere are dropped and a
final letter is upper-cased, so ``1234567a`` and `` 123 4567 A`` both give ``1234567A``.

A Carif-Oref number (``14_AF_0000012345`` for an action, ``14_SE_0000123456`` for a session) is
kept as given, surrounding spaces aside: 1 to 40 characters, letters, digits, ``_`` and ``-``,
starting with a letter or a digit, as the event contract allows.
"""

import re
from typing import Final

from kairos_declaration.domain.errors import DeclarationRejected

FRANCE_TRAVAIL_ID_LENGTH: Final = 8
CARIF_OREF_MAX_LENGTH: Final = 40
_FRANCE_TRAVAIL_ID: Final = re.compile(r"[0-9]{7}[0-9A-Za-z]")
_CARIF_OREF_NUMBER: Final = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,39}")
_WHITESPACE: Final = re.compile(r"\s+")


def parse_france_travail_id(text: str, field: str = "trainee_id") -> str:
    """The job seeker's France Travail identifier in its canonical form (K16), or
    `DeclarationRejected` naming `field` and saying what is wrong."""
    compact = _WHITESPACE.sub("", text)
    if not compact:
        raise DeclarationRejected.of(
            field, "the France Travail identifier is required (7 digits then a letter or a digit)"
        )
    if len(compact) != FRANCE_TRAVAIL_ID_LENGTH:
        raise DeclarationRejected.of(
            field,
            f"a France Travail identifier is 8 characters, 7 digits then a letter or a digit "
            f"(e.g. 1234567A); {compact!r} has {len(compact)}",
        )
    if not _FRANCE_TRAVAIL_ID.fullmatch(compact):
        raise DeclarationRejected.of(
            field,
            f"a France Travail identifier is 7 digits then a letter or a digit "
            f"(e.g. 1234567A); {compact!r} is not",
        )
    return compact.upper()


def is_france_travail_id(text: str) -> bool:
    """Whether `text` is a France Travail identifier in its canonical form already."""
    return _FRANCE_TRAVAIL_ID.fullmatch(text) is not None and text == text.upper()


def parse_carif_oref_number(text: str, field: str) -> str:
    """A Carif-Oref action or session number without its surrounding spaces (K16), or
    `DeclarationRejected` naming `field`."""
    number = text.strip()
    if not number:
        raise DeclarationRejected.of(field, "the Carif-Oref number is required")
    if len(number) > CARIF_OREF_MAX_LENGTH:
        raise DeclarationRejected.of(
            field, f"a Carif-Oref number has at most 40 characters; this one has {len(number)}"
        )
    if not _CARIF_OREF_NUMBER.fullmatch(number):
        raise DeclarationRejected.of(
            field,
            f"a Carif-Oref number is letters, digits, '_' and '-', starting with a letter or "
            f"a digit (e.g. 14_SE_0000123456); {number!r} is not",
        )
    return number
