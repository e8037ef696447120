"""The identifiers an organisation joins with (K1): its SIRET and its activity declaration number.

Both are value objects: an instance exists only if its number is valid, so code that holds a
`Siret` or an `Nda` never checks it again. `parse` accepts what people type (spaces between digit
groups); the constructor accepts only the compact form. Errors name the field and say exactly
what is wrong, in English, because they are returned as such by the HTTP API.
"""

import re
from dataclasses import dataclass
from typing import Self

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.fr import siret as stdnum_siret

SIRET_LENGTH = 14
SIREN_LENGTH = 9
NDA_LENGTH = 11
LA_POSTE_SIREN = "356000000"

NDA_REGION_NAMES: dict[str, str] = {
    "11": "Île-de-France",
    "24": "Centre-Val de Loire",
    "27": "Bourgogne-Franche-Comté",
    "28": "Normandie",
    "32": "Hauts-de-France",
    "44": "Grand Est",
    "52": "Pays de la Loire",
    "53": "Bretagne",
    "75": "Nouvelle-Aquitaine",
    "76": "Occitanie",
    "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d'Azur",
    "94": "Corse",
    "01": "Guadeloupe",
    "02": "Martinique",
    "03": "Guyane",
    "04": "La Réunion",
    "06": "Mayotte",
    # Numbers declared before the 2016 reform keep their old region's code for life.
    "21": "Champagne-Ardenne (before 2016)",
    "22": "Picardie (before 2016)",
    "23": "Haute-Normandie (before 2016)",
    "25": "Basse-Normandie (before 2016)",
    "26": "Bourgogne (before 2016)",
    "31": "Nord-Pas-de-Calais (before 2016)",
    "41": "Lorraine (before 2016)",
    "42": "Alsace (before 2016)",
    "43": "Franche-Comté (before 2016)",
    "54": "Poitou-Charentes (before 2016)",
    "72": "Aquitaine (before 2016)",
    "73": "Midi-Pyrénées (before 2016)",
    "74": "Limousin (before 2016)",
    "82": "Rhône-Alpes (before 2016)",
    "83": "Auvergne (before 2016)",
    "91": "Languedoc-Roussillon (before 2016)",
}
"""Region codes that open an NDA: the regions as numbered since the 2016 reform, and the old
regions' codes, which NDAs declared before it keep (K1)."""

_ASCII_DIGITS = re.compile(r"[0-9]*")


class InvalidIdentifierError(ValueError):
    """An organisation identifier was refused; `field` names the input ("siret" or "nda")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _compact(text: str) -> str:
    """Drop every whitespace character (spaces, no-break spaces) people put between groups."""
    return "".join(text.split())


def _require_digits(field: str, label: str, number: str, length: int) -> None:
    """Refuse anything but exactly `length` ASCII digits, saying which of the two is wrong."""
    if not _ASCII_DIGITS.fullmatch(number):
        raise InvalidIdentifierError(
            field, f"{label} must contain only digits (spaces between groups are allowed)"
        )
    if len(number) != length:
        raise InvalidIdentifierError(field, f"{label} must be {length} digits, got {len(number)}")


def _checksum_message(number: str) -> str:
    """Explain which checksum a 14-digit SIRET refused by python-stdnum fails."""
    if number.startswith(LA_POSTE_SIREN):
        return (
            f"SIRET {number} fails its checksum "
            "(La Poste: the sum of its digits must be a multiple of 5)"
        )
    if luhn.is_valid(number):
        return (
            f"SIREN {number[:SIREN_LENGTH]} (the first 9 digits of SIRET {number}) "
            "fails its checksum (Luhn)"
        )
    return f"SIRET {number} fails its checksum (Luhn)"


@dataclass(frozen=True, slots=True)
class Siret:
    """An establishment's SIRET: 14 digits, Luhn-checked, with La Poste's exception (K1).

    La Poste's establishments share SIREN 356000000 and do not follow Luhn: the sum of their
    digits is a multiple of 5 instead. python-stdnum knows that rule; we rely on it.
    """

    value: str

    def __post_init__(self) -> None:
        _require_digits("siret", "SIRET", self.value, SIRET_LENGTH)
        try:
            stdnum_siret.validate(self.value)
        except ValidationError as error:
            raise InvalidIdentifierError("siret", _checksum_message(self.value)) from error

    @classmethod
    def parse(cls, text: str) -> Self:
        """Read a SIRET as typed: "732 829 320 00074" and "73282932000074" are the same."""
        return cls(_compact(text))

    @property
    def siren(self) -> str:
        """The company's SIREN: the first 9 digits."""
        return self.value[:SIREN_LENGTH]

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Nda:
    """A numéro de déclaration d'activité: 11 digits, the first two being a region code (K1).

    Only the codes of `NDA_REGION_NAMES` are accepted; there is no checksum to verify.
    """

    value: str

    def __post_init__(self) -> None:
        _require_digits("nda", "NDA", self.value, NDA_LENGTH)
        code = self.value[:2]
        if code not in NDA_REGION_NAMES:
            raise InvalidIdentifierError(
                "nda",
                f"NDA {self.value} starts with {code}, "
                "which is not a region code used in activity declaration numbers",
            )

    @classmethod
    def parse(cls, text: str) -> Self:
        """Read an NDA as typed: "11 75 12345 75" and "11751234575" are the same."""
        return cls(_compact(text))

    @property
    def region_code(self) -> str:
        """The two-digit code of the region that registered the declaration."""
        return self.value[:2]

    @property
    def region_name(self) -> str:
        """The region's name, in French as the administration writes it."""
        return NDA_REGION_NAMES[self.region_code]

    def __str__(self) -> str:
        return self.value
