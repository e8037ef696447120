"""French wording for e-mails: times in a zone, counts, and the French of the contracts' codes.

These are the template filters of :mod:`kairos_notification.adapters.templates`, plain functions
so they can be tested alone:

- ``date_fr``: ``lundi 23 mars 2026`` (a date; a datetime needs its zone: ``date_fr(zone)``);
- ``datetime_fr(zone)``: ``23 mars 2026 à 10 h 00 (heure de Paris)``, the instant on the zone's
  clocks with the zone's label; a naive datetime is refused (its zone would be a guess);
- ``month_fr``: ``2026-03`` becomes ``mars 2026``;
- ``in_days_fr``: ``aujourd'hui``, ``dans 1 jour``, ``dans 3 jours``;
- ``count_fr("habilitation")``: ``1 habilitation``, ``3 habilitations`` (0 and 1 are singular);
- ``*_reason_fr``, ``declaration_kind_fr``: the French for a contract's code; an unknown code is
  an error, not a code left in a French sentence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType

from kairos_shared.zones import Zone

_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    *("janvier", "février", "mars", "avril", "mai", "juin"),
    *("juillet", "août", "septembre", "octobre", "novembre", "décembre"),
)
_YEAR_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")

HABILITATION_END_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "departure": "départ de l'organisme",
        "absence_over_3_months": "absence de plus de 3 mois",
        "change_of_function": "changement de fonction",
        "breach_of_terms": "manquement aux conditions générales d'utilisation",
        "operator_demand": "demande de France Travail",
        "annual_review": "revue annuelle des habilitations",
    }
)
"""The French for each ``HabilitationEnded.reason`` (kairos_schemas.habilitation.EndReason)."""

RGC_VACANCY_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "departure": "départ de l'organisme du RGC",
        "absence_over_3_months": "absence du RGC de plus de 3 mois",
        "change_of_function": "changement de fonction du RGC",
        "provisional_account_lapsed": "compte du RGC non activé dans les 21 jours",
        "operator_demand": "demande de France Travail",
    }
)
"""The French for each ``RgcPostVacated.reason`` (kairos_schemas.habilitation.VacancyReason)."""

DECLARATION_KINDS: Mapping[str, str] = MappingProxyType(
    {
        "interruption": "interruption de session",
        "correspondent": "correspondant de formation",
        "information_meetings": "calendrier des réunions d'information",
        "information_meeting_result": "résultat des réunions d'information",
        "entry": "entrée en formation",
        "attendance": "état de présence mensuel",
        "exit": "sortie de formation",
    }
)
"""The French for each declaration kind (kairos_schemas.declaration.DeclarationKind)."""


def as_zone(zone: object) -> Zone:
    """A :class:`Zone`, from itself or its value (``"guadeloupe"``)."""
    if isinstance(zone, Zone):
        return zone
    if isinstance(zone, str):
        return Zone(zone)
    raise TypeError(f"a zone is a Zone or its name, not {zone!r}")


def _day_number(day: date) -> str:
    return "1er" if day.day == 1 else str(day.day)


def _local(instant: object, zone: object) -> datetime:
    if not isinstance(instant, datetime):
        raise TypeError(f"an instant is an aware datetime, not {instant!r}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"an instant must be timezone-aware: {instant.isoformat()}")
    return instant.astimezone(as_zone(zone).time_zone)


def date_fr(value: object, zone: object = None) -> str:
    """``lundi 23 mars 2026``: a date, or the date of an instant in ``zone``."""
    if isinstance(value, datetime):
        if zone is None:
            raise TypeError(f"the date of an instant depends on the zone: date_fr(zone), {value!r}")
        value = _local(value, zone).date()
    if not isinstance(value, date):
        raise TypeError(f"date_fr formats a date, not {value!r}")
    return (
        f"{_WEEKDAYS[value.weekday()]} {_day_number(value)} {_MONTHS[value.month - 1]} {value.year}"
    )


def datetime_fr(value: object, zone: object) -> str:
    """``23 mars 2026 à 10 h 00 (heure de Paris)``: the instant on ``zone``'s clocks. Midnight
    is the end of the day before, ``23 mars 2026 à 24 h 00``: a deadline at the end of a last
    day (K6) reads as that day, whole."""
    local = _local(value, zone)
    hour = local.hour
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        local, hour = local - timedelta(days=1), 24
    day = f"{_day_number(local)} {_MONTHS[local.month - 1]} {local.year}"
    return f"{day} à {hour} h {local.minute:02d} ({as_zone(zone).french_time_label})"


def month_fr(value: object) -> str:
    """``mars 2026`` for ``2026-03``."""
    match = _YEAR_MONTH.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"a month is written YYYY-MM, not {value!r}")
    return f"{_MONTHS[int(match[2]) - 1]} {match[1]}"


def in_days_fr(days: object) -> str:
    """``aujourd'hui``, ``dans 1 jour``, ``dans 3 jours``."""
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise ValueError(f"a number of days left is an int >= 0, not {days!r}")
    if days == 0:
        return "aujourd'hui"
    return f"dans {days} jour{'s' if days > 1 else ''}"


def count_fr(count: object, singular: str, plural: str | None = None) -> str:
    """``1 habilitation``, ``3 habilitations``: French counts 0 and 1 in the singular."""
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ValueError(f"a count is an int >= 0, not {count!r}")
    word = singular if count <= 1 else (plural or f"{singular}s")
    return f"{count} {word}"


def _label(labels: Mapping[str, str], what: str, code: object) -> str:
    if not isinstance(code, str) or code not in labels:
        raise ValueError(f"no French wording for the {what} {code!r}: one of {sorted(labels)}")
    return labels[code]


def habilitation_end_reason_fr(code: object) -> str:
    """The French for a habilitation's end reason (K13)."""
    return _label(HABILITATION_END_REASONS, "habilitation end reason", code)


def rgc_vacancy_reason_fr(code: object) -> str:
    """The French for the reason the RGC post is vacant (K10)."""
    return _label(RGC_VACANCY_REASONS, "RGC vacancy reason", code)


def declaration_kind_fr(code: object) -> str:
    """The French for a declaration kind (K16)."""
    return _label(DECLARATION_KINDS, "declaration kind", code)


FILTERS = MappingProxyType(
    {
        "date_fr": date_fr,
        "datetime_fr": datetime_fr,
        "month_fr": month_fr,
        "in_days_fr": in_days_fr,
        "count_fr": count_fr,
        "habilitation_end_reason_fr": habilitation_end_reason_fr,
        "rgc_vacancy_reason_fr": rgc_vacancy_reason_fr,
        "declaration_kind_fr": declaration_kind_fr,
    }
)
"""The template filters, by name."""
