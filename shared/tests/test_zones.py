"""Zones: postal code to département and zone (SPEC §4), time zones, and the public holidays
the ``holidays`` library gives each zone (checked, so a library upgrade that changes them fails)."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest

from kairos_shared.zones import (
    InvalidPostalCodeError,
    Zone,
    departement_of_postal_code,
    public_holidays,
    zone_of_postal_code,
)


@pytest.mark.parametrize(
    ("postal_code", "departement", "zone"),
    [
        ("01000", "01", Zone.METROPOLITAN),  # Bourg-en-Bresse
        ("75001", "75", Zone.METROPOLITAN),
        ("54000", "54", Zone.METROPOLITAN),  # Nancy: Lorraine, but not Moselle
        ("95000", "95", Zone.METROPOLITAN),
        ("20000", "2A", Zone.METROPOLITAN),  # Ajaccio
        ("20100", "2A", Zone.METROPOLITAN),  # Sartène
        ("20200", "2B", Zone.METROPOLITAN),  # Bastia
        ("20620", "2B", Zone.METROPOLITAN),  # Biguglia
        ("57000", "57", Zone.ALSACE_MOSELLE),  # Metz
        ("67000", "67", Zone.ALSACE_MOSELLE),  # Strasbourg
        ("68100", "68", Zone.ALSACE_MOSELLE),  # Mulhouse
        ("97110", "971", Zone.GUADELOUPE),  # Pointe-à-Pitre
        ("97200", "972", Zone.MARTINIQUE),  # Fort-de-France
        ("97300", "973", Zone.GUYANE),  # Cayenne
        ("97400", "974", Zone.LA_REUNION),  # Saint-Denis
        ("97600", "976", Zone.MAYOTTE),  # Mamoudzou
    ],
)
def test_postal_code_gives_departement_and_zone(
    postal_code: str, departement: str, zone: Zone
) -> None:
    assert departement_of_postal_code(postal_code) == departement
    assert zone_of_postal_code(postal_code) is zone


@pytest.mark.parametrize(
    ("postal_code", "message"),
    [
        ("7500", r"'7500' is not 5 digits"),
        ("750010", r"is not 5 digits"),
        (" 75001", r"is not 5 digits"),
        ("2A000", r"is not 5 digits"),
        ("\u0667\u0665\u0660\u0660\u0661", r"is not 5 digits \(0-9\)"),  # Arabic-Indic digits
        ("00100", r"starts with 00: no département"),
        ("96000", r"no département 96"),
        ("99000", r"no département 99"),
        ("20700", r"Corsican postal codes run from 20000 to 20699"),
        ("97000", r"no overseas département or collectivity 970"),
        ("97500", r"Saint-Pierre-et-Miquelon \(975\).*does not serve it"),
        ("97700", r"Saint-Barthélemy \(977\).*does not serve it"),
        ("97133", r"Saint-Barthélemy \(977\).*does not serve it"),
        ("97800", r"Saint-Martin \(978\).*does not serve it"),
        ("97150", r"Saint-Martin \(978\).*does not serve it"),
        ("98000", r"Monaco \(980\), which is not France"),
        ("98600", r"Wallis-et-Futuna \(986\).*does not serve it"),
        ("98714", r"French Polynesia \(987\).*does not serve it"),
        ("98800", r"New Caledonia \(988\).*does not serve it"),
        ("98100", r"no overseas département or collectivity 981"),
    ],
)
def test_refused_postal_codes_say_what_is_wrong(postal_code: str, message: str) -> None:
    with pytest.raises(InvalidPostalCodeError, match=message):
        departement_of_postal_code(postal_code)
    with pytest.raises(ValueError, match=message):
        zone_of_postal_code(postal_code)


def test_each_zone_has_its_time_zone_and_holiday_calendar() -> None:
    assert {zone: zone.time_zone.key for zone in Zone} == {
        Zone.METROPOLITAN: "Europe/Paris",
        Zone.ALSACE_MOSELLE: "Europe/Paris",
        Zone.GUADELOUPE: "America/Guadeloupe",
        Zone.MARTINIQUE: "America/Martinique",
        Zone.GUYANE: "America/Cayenne",
        Zone.LA_REUNION: "Indian/Reunion",
        Zone.MAYOTTE: "Indian/Mayotte",
    }
    assert [zone.holiday_subdivision for zone in Zone] == [
        None,
        "6AE",
        "971",
        "972",
        "973",
        "974",
        "976",
    ]
    assert Zone.LA_REUNION.french_time_label == "heure de La Réunion"
    assert Zone("alsace-moselle") is Zone.ALSACE_MOSELLE


@pytest.mark.parametrize("subdivision", ["6AE", "57"])
@pytest.mark.parametrize("year", range(2024, 2031))
def test_library_gives_alsace_moselle_good_friday_and_26_december(
    subdivision: str, year: int
) -> None:
    local = holidays.country_holidays("FR", subdiv=subdivision, years=year, language="fr")
    national = holidays.country_holidays("FR", years=year, language="fr")
    extra = {day: local[day] for day in set(local) - set(national)}
    easter_monday = next(day for day, name in national.items() if name == "Lundi de Pâques")
    assert extra == {
        easter_monday - timedelta(days=3): "Vendredi saint",
        date(year, 12, 26): "Saint-Étienne",
    }


@pytest.mark.parametrize(
    ("zone", "day", "name"),
    [
        (Zone.ALSACE_MOSELLE, date(2026, 4, 3), "Vendredi saint"),
        (Zone.ALSACE_MOSELLE, date(2025, 12, 26), "Saint-Étienne"),
        (Zone.LA_REUNION, date(2024, 12, 20), "Abolition de l'esclavage"),
        (Zone.MAYOTTE, date(2026, 4, 27), "Abolition de l'esclavage"),
        (Zone.GUYANE, date(2026, 6, 10), "Abolition de l'esclavage"),
        (Zone.MARTINIQUE, date(2026, 5, 22), "Abolition de l'esclavage"),
        (Zone.GUADELOUPE, date(2026, 5, 27), "Abolition de l'esclavage"),
    ],
)
def test_zone_specific_holidays_are_only_in_their_zone(zone: Zone, day: date, name: str) -> None:
    assert public_holidays(zone, day.year)[day] == name
    assert day not in public_holidays(Zone.METROPOLITAN, day.year)


@pytest.mark.parametrize("zone", list(Zone))
def test_every_zone_has_the_national_holidays_in_french(zone: Zone) -> None:
    calendar = public_holidays(zone, 2026)
    assert calendar[date(2026, 5, 1)] == "Fête du Travail"
    assert calendar[date(2026, 7, 14)] == "Fête nationale"
    assert calendar[date(2026, 12, 25)] == "Noël"
    assert set(public_holidays(Zone.METROPOLITAN, 2026)) <= set(calendar)


def test_public_holidays_are_cached_per_zone_and_year_and_read_only() -> None:
    calendar = public_holidays(Zone.MAYOTTE, 2027)
    assert public_holidays(Zone.MAYOTTE, 2027) is calendar
    assert public_holidays(Zone.MAYOTTE, 2028) is not calendar
    assert all(day.year == 2027 for day in calendar)
    with pytest.raises(TypeError):
        calendar[date(2027, 1, 2)] = "invented"  # type: ignore[index]  # read-only on purpose
