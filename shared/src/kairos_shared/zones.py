"""The zones whose local time and public holidays decide when the platform is open (K4).

An OF's zone comes from the postal code of its address (SPEC §4), read as La Poste routes it:

- the first two digits are the département (``01``-``95``); ``00`` and ``96``-``99`` are none;
- ``20xxx`` is Corse: ``200xx``-``201xx`` Corse-du-Sud (``2A``), ``202xx``-``206xx`` Haute-Corse
  (``2B``); Corse is metropolitan;
- ``97`` and ``98`` take three digits: ``971`` Guadeloupe, ``972`` Martinique, ``973`` Guyane,
  ``974`` La Réunion, ``976`` Mayotte are the overseas départements the platform serves; the
  overseas collectivities are refused with their name — ``975`` Saint-Pierre-et-Miquelon,
  ``977`` Saint-Barthélemy and ``978`` Saint-Martin (whose addresses use ``97133`` and ``97150``,
  also refused), ``984``-``988`` in the Pacific and the TAAF — and so is Monaco (``980``);
- Moselle (``57``), Bas-Rhin (``67``) and Haut-Rhin (``68``) are Alsace-Moselle, whose local law
  adds Good Friday and 26 December; every other département is metropolitan.

The prefix is La Poste's routing département: a few border communes are routed by a neighbour's
office. The address is all an adhesion carries, so it is what we use.

Public holidays come from the ``holidays`` library (SPEC §4), in French, cached per zone and year.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays


class Zone(StrEnum):
    """A zone with its own time zone or public holidays."""

    METROPOLITAN = "metropolitan"
    ALSACE_MOSELLE = "alsace-moselle"
    GUADELOUPE = "guadeloupe"
    MARTINIQUE = "martinique"
    GUYANE = "guyane"
    LA_REUNION = "la-reunion"
    MAYOTTE = "mayotte"

    @property
    def time_zone(self) -> ZoneInfo:
        """The IANA time zone of the zone's wall clocks."""
        return ZoneInfo(_PROFILES[self].time_zone)

    @property
    def holiday_subdivision(self) -> str | None:
        """The ``holidays`` library's subdivision of France for the zone (None: national only)."""
        return _PROFILES[self].holiday_subdivision

    @property
    def french_name(self) -> str:
        """How the zone is named to users, e.g. ``La Réunion``."""
        return _PROFILES[self].name

    @property
    def french_locative(self) -> str:
        """The French for "in the zone": ``à La Réunion``, ``en Guyane``."""
        return _PROFILES[self].locative

    @property
    def french_time_label(self) -> str:
        """The zone's time as users call it: ``heure de Paris``, ``heure de La Réunion``."""
        return _PROFILES[self].time_label


@dataclass(frozen=True)
class _ZoneProfile:
    time_zone: str
    holiday_subdivision: str | None
    name: str
    locative: str
    time_label: str


_PROFILES: Mapping[Zone, _ZoneProfile] = {
    Zone.METROPOLITAN: _ZoneProfile(
        "Europe/Paris", None, "France métropolitaine", "en France métropolitaine", "heure de Paris"
    ),
    Zone.ALSACE_MOSELLE: _ZoneProfile(
        "Europe/Paris", "6AE", "Alsace-Moselle", "en Alsace-Moselle", "heure de Paris"
    ),
    Zone.GUADELOUPE: _ZoneProfile(
        "America/Guadeloupe", "971", "Guadeloupe", "en Guadeloupe", "heure de la Guadeloupe"
    ),
    Zone.MARTINIQUE: _ZoneProfile(
        "America/Martinique", "972", "Martinique", "en Martinique", "heure de la Martinique"
    ),
    Zone.GUYANE: _ZoneProfile(
        "America/Cayenne", "973", "Guyane", "en Guyane", "heure de la Guyane"
    ),
    Zone.LA_REUNION: _ZoneProfile(
        "Indian/Reunion", "974", "La Réunion", "à La Réunion", "heure de La Réunion"
    ),
    Zone.MAYOTTE: _ZoneProfile("Indian/Mayotte", "976", "Mayotte", "à Mayotte", "heure de Mayotte"),
}

_OVERSEAS_ZONES: Mapping[str, Zone] = {
    "971": Zone.GUADELOUPE,
    "972": Zone.MARTINIQUE,
    "973": Zone.GUYANE,
    "974": Zone.LA_REUNION,
    "976": Zone.MAYOTTE,
}
_ALSACE_MOSELLE = frozenset({"57", "67", "68"})
_NOT_SERVED: Mapping[str, str] = {
    "975": "Saint-Pierre-et-Miquelon (975), an overseas collectivity",
    "977": "Saint-Barthélemy (977), an overseas collectivity",
    "97133": "Saint-Barthélemy (977), an overseas collectivity",
    "978": "Saint-Martin (978), an overseas collectivity",
    "97150": "Saint-Martin (978), an overseas collectivity",
    "980": "Monaco (980), which is not France",
    "984": "the French Southern and Antarctic Lands (984), an overseas collectivity",
    "986": "Wallis-et-Futuna (986), an overseas collectivity",
    "987": "French Polynesia (987), an overseas collectivity",
    "988": "New Caledonia (988), a sui generis collectivity",
}
_FIVE_DIGITS = re.compile(r"[0-9]{5}")


class InvalidPostalCodeError(ValueError):
    """A postal code that is malformed, or names no département the platform serves."""


def departement_of_postal_code(postal_code: str) -> str:
    """The département of a French postal code: ``"75"``, ``"2A"``, ``"974"``…"""
    if not _FIVE_DIGITS.fullmatch(postal_code):
        raise InvalidPostalCodeError(f"postal code {postal_code!r} is not 5 digits (0-9)")
    for prefix in (postal_code, postal_code[:3]):
        if prefix in _NOT_SERVED:
            raise InvalidPostalCodeError(
                f"postal code {postal_code} is in {_NOT_SERVED[prefix]}:"
                " the platform does not serve it"
            )
    two, three = postal_code[:2], postal_code[:3]
    if two == "00":
        raise InvalidPostalCodeError(
            f"postal code {postal_code} starts with 00: no département has that number"
        )
    if two == "20":
        return _corsican_departement(postal_code)
    if two in {"97", "98"}:
        if three in _OVERSEAS_ZONES:
            return three
        raise InvalidPostalCodeError(
            f"postal code {postal_code}: no overseas département or collectivity {three}"
            " (the platform serves 971, 972, 973, 974 and 976)"
        )
    if two > "95":
        raise InvalidPostalCodeError(f"postal code {postal_code}: no département {two}")
    return two


def _corsican_departement(postal_code: str) -> str:
    """Corse-du-Sud for 200xx-201xx, Haute-Corse for 202xx-206xx (La Poste's split)."""
    hundreds = postal_code[2]
    if hundreds in "01":
        return "2A"
    if hundreds in "23456":
        return "2B"
    raise InvalidPostalCodeError(
        f"postal code {postal_code}: Corsican postal codes run from 20000 to 20699"
    )


def zone_of_postal_code(postal_code: str) -> Zone:
    """The zone of the address whose postal code this is (see the module's rules)."""
    departement = departement_of_postal_code(postal_code)
    if departement in _OVERSEAS_ZONES:
        return _OVERSEAS_ZONES[departement]
    if departement in _ALSACE_MOSELLE:
        return Zone.ALSACE_MOSELLE
    return Zone.METROPOLITAN


@lru_cache(maxsize=256)
def public_holidays(zone: Zone, year: int) -> Mapping[date, str]:
    """The zone's public holidays in ``year``, by date, with their French names (read-only)."""
    calendar = holidays.country_holidays(
        "FR", subdiv=zone.holiday_subdivision, years=year, language="fr"
    )
    return MappingProxyType(dict(calendar))


def is_working_day(day: date, zone: Zone) -> bool:
    """Whether `day` is a Monday to Friday that is no public holiday in `zone`."""
    return day.weekday() < 5 and day not in public_holidays(zone, day.year)  # noqa: PLR2004 - Saturday


def nth_working_day(year: int, month: int, n: int, zone: Zone) -> date:
    """The `n`-th working day of `zone` counted from the 1st of `month` (1 is the first): the
    monthly attendance deadline (K18) is the 5th of the next month by default."""
    if n < 1:
        raise ValueError(f"working days are counted from 1, not {n}")
    day = date(year, month, 1)
    seen = int(is_working_day(day, zone))
    while seen < n:
        day += timedelta(days=1)
        seen += is_working_day(day, zone)
    return day
