"""The French wording filters of the e-mails: dates in a zone, months, days left, counts, and the
French for every code the contracts can send."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import get_args

import pytest

from kairos_notification.adapters.french import (
    DECLARATION_KINDS,
    HABILITATION_END_REASONS,
    RGC_VACANCY_REASONS,
    count_fr,
    date_fr,
    datetime_fr,
    declaration_kind_fr,
    habilitation_end_reason_fr,
    in_days_fr,
    month_fr,
    rgc_vacancy_reason_fr,
)
from kairos_schemas.declaration import DeclarationKind
from kairos_schemas.habilitation import EndReason, VacancyReason
from kairos_shared.zones import Zone


def test_date_fr_names_the_weekday_and_the_first_of_the_month() -> None:
    assert date_fr(date(2026, 3, 23)) == "lundi 23 mars 2026"
    assert date_fr(date(2026, 8, 1)) == "samedi 1er août 2026"


def test_date_fr_of_an_instant_needs_the_zone() -> None:
    instant = datetime(2026, 3, 24, 2, 0, tzinfo=UTC)
    assert date_fr(instant, Zone.MARTINIQUE) == "lundi 23 mars 2026"
    assert date_fr(instant, "metropolitan") == "mardi 24 mars 2026"
    with pytest.raises(TypeError, match="zone"):
        date_fr(instant)


def test_datetime_fr_is_the_zone_wall_clock_with_its_label() -> None:
    instant = datetime(2026, 3, 23, 9, 5, tzinfo=UTC)
    assert datetime_fr(instant, Zone.METROPOLITAN) == "23 mars 2026 à 10 h 05 (heure de Paris)"
    assert datetime_fr(instant, "mayotte") == "23 mars 2026 à 12 h 05 (heure de Mayotte)"
    summer = datetime(2026, 7, 1, 22, 0, tzinfo=UTC)
    assert datetime_fr(summer, Zone.ALSACE_MOSELLE) == "1er juillet 2026 à 24 h 00 (heure de Paris)"
    assert datetime_fr(summer.replace(minute=1), Zone.METROPOLITAN) == (
        "2 juillet 2026 à 0 h 01 (heure de Paris)"
    )


def test_a_deadline_at_the_end_of_its_last_day_reads_as_that_day() -> None:
    rgc_deadline = datetime(2026, 3, 23, 23, 0, tzinfo=UTC)  # K6: the end of 23 March in Paris
    assert datetime_fr(rgc_deadline, Zone.METROPOLITAN) == "23 mars 2026 à 24 h 00 (heure de Paris)"
    reunion = datetime(2026, 3, 19, 20, 0, tzinfo=UTC)
    assert datetime_fr(reunion, "la-reunion") == "19 mars 2026 à 24 h 00 (heure de La Réunion)"


def test_datetime_fr_refuses_a_naive_time_a_date_and_an_unknown_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        datetime_fr(datetime(2026, 3, 23, 10, 0), Zone.METROPOLITAN)  # noqa: DTZ001 - on purpose
    with pytest.raises(TypeError):
        datetime_fr(date(2026, 3, 23), Zone.METROPOLITAN)
    with pytest.raises(ValueError, match="atlantis"):
        datetime_fr(datetime(2026, 3, 23, tzinfo=UTC), "atlantis")


def test_month_fr() -> None:
    assert month_fr("2026-02") == "février 2026"
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_fr("2026-13")


def test_in_days_fr_and_count_fr_agree_in_number() -> None:
    assert [in_days_fr(days) for days in (0, 1, 5)] == [
        "aujourd'hui",
        "dans 1 jour",
        "dans 5 jours",
    ]
    assert [count_fr(n, "habilitation") for n in (0, 1, 2)] == [
        "0 habilitation", "1 habilitation", "2 habilitations"
    ]  # fmt: skip
    assert count_fr(3, "état de présence", "états de présence") == "3 états de présence"
    with pytest.raises(ValueError, match="days"):
        in_days_fr(-1)
    with pytest.raises(ValueError, match="count"):
        count_fr(True, "habilitation")


def test_every_code_the_contracts_send_has_its_french() -> None:
    assert set(HABILITATION_END_REASONS) == set(get_args(EndReason))
    assert set(RGC_VACANCY_REASONS) == set(get_args(VacancyReason))
    assert set(DECLARATION_KINDS) == set(get_args(DeclarationKind))
    assert habilitation_end_reason_fr("departure") == "départ de l'organisme"
    assert rgc_vacancy_reason_fr("operator_demand") == "demande de France Travail"
    assert declaration_kind_fr("attendance") == "état de présence mensuel"


def test_an_unknown_code_is_an_error_not_an_english_word_in_a_french_sentence() -> None:
    with pytest.raises(ValueError, match="retired"):
        habilitation_end_reason_fr("retired")
