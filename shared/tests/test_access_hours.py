"""Access hours (K4): Monday to Friday 07:30-19:00 in the zone's local time, minus its public
holidays and configured closures; the reopening instant; the RFC 9457 refusal; the settings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kairos_shared.access_hours import (
    PROBLEM_TYPE,
    AccessCalendar,
    AccessHoursSettings,
    Closure,
    NoOpeningError,
    OpeningRules,
    problem_details,
)
from kairos_shared.zones import Zone

K4 = AccessCalendar(OpeningRules())


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(zone: Zone, day: date, wall_clock: time) -> datetime:
    return datetime.combine(day, wall_clock, tzinfo=zone.time_zone)


def test_same_instant_is_before_opening_in_paris_and_open_in_la_reunion() -> None:
    instant = utc(2026, 3, 2, 4)  # a Monday: 05:00 in Paris, 08:00 in La Réunion
    paris = K4.decide(instant, Zone.METROPOLITAN)
    assert (paris.open, paris.reason) == (False, "before_opening")
    assert paris.local_time.time() == time(5, 0)
    assert paris.next_opening == utc(2026, 3, 2, 6, 30)
    assert paris.detail == "avant l'ouverture de 07:30 en France métropolitaine, heure de Paris"
    reunion = K4.decide(instant, Zone.LA_REUNION)
    assert (reunion.open, reunion.reason, reunion.detail, reunion.next_opening) == (
        *(True, None, None, None),
    )
    assert reunion.local_time.time() == time(8, 0)


def test_weekend_is_closed_until_monday() -> None:
    saturday = local(Zone.LA_REUNION, date(2026, 3, 7), time(10, 0))
    decision = K4.decide(saturday, Zone.LA_REUNION)
    assert (decision.reason, decision.detail) == (
        *("weekend", "pas d'ouverture le samedi à La Réunion"),
    )
    assert decision.next_opening == local(Zone.LA_REUNION, date(2026, 3, 9), time(7, 30))
    assert not K4.is_open(utc(2026, 3, 8, 12), Zone.METROPOLITAN)  # a Sunday


@pytest.mark.parametrize("zone", list(Zone))
def test_first_of_may_is_a_holiday_in_every_zone(zone: Zone) -> None:
    decision = K4.decide(local(zone, date(2026, 5, 1), time(12, 0)), zone)
    assert decision.reason == "public_holiday"
    assert decision.detail == (
        f"jour férié {zone.french_locative} : Fête du Travail, vendredi 1er mai 2026"
    )
    assert decision.next_opening == local(zone, date(2026, 5, 4), time(7, 30))


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        (Zone.ALSACE_MOSELLE, date(2026, 4, 3)),  # Good Friday
        (Zone.ALSACE_MOSELLE, date(2025, 12, 26)),  # Saint-Étienne
        (Zone.LA_REUNION, date(2024, 12, 20)),  # abolition of slavery, each zone its own day
        (Zone.MAYOTTE, date(2026, 4, 27)),
        (Zone.GUYANE, date(2026, 6, 10)),
        (Zone.MARTINIQUE, date(2026, 5, 22)),
        (Zone.GUADELOUPE, date(2026, 5, 27)),
    ],
)
def test_a_zone_holiday_closes_only_that_zone(zone: Zone, day: date) -> None:
    assert day.weekday() < 5, "chosen on a weekday, so only the holiday can close it"
    noon = time(12, 0)
    assert K4.decide(local(zone, day, noon), zone).reason == "public_holiday"
    assert K4.is_open(local(Zone.METROPOLITAN, day, noon), Zone.METROPOLITAN)


@pytest.mark.parametrize("zone", [Zone.METROPOLITAN, Zone.GUYANE])
@pytest.mark.parametrize(
    ("wall_clock", "is_open", "reason"),
    [
        (time(7, 29, 59), False, "before_opening"),
        (time(7, 30), True, None),
        (time(18, 59, 59), True, None),
        (time(19, 0), False, "after_closing"),
    ],
)
def test_opening_is_from_0730_included_to_1900_excluded(
    zone: Zone, wall_clock: time, is_open: bool, reason: str | None
) -> None:
    decision = K4.decide(local(zone, date(2026, 3, 4), wall_clock), zone)
    assert (decision.open, decision.reason) == (is_open, reason)


@pytest.mark.parametrize(
    ("monday", "opens_utc", "closes_utc"),
    [
        (date(2026, 3, 23), utc(2026, 3, 23, 6, 30), utc(2026, 3, 23, 18)),  # winter time
        (date(2026, 3, 30), utc(2026, 3, 30, 5, 30), utc(2026, 3, 30, 17)),  # the day after
        (date(2026, 10, 19), utc(2026, 10, 19, 5, 30), utc(2026, 10, 19, 17)),  # summer time
        (date(2026, 10, 26), utc(2026, 10, 26, 6, 30), utc(2026, 10, 26, 18)),  # the day after
    ],
)
def test_paris_hours_follow_daylight_saving_time(
    monday: date, opens_utc: datetime, closes_utc: datetime
) -> None:
    sunday_night = datetime.combine(monday, time(0), tzinfo=UTC) - timedelta(hours=3)
    assert K4.next_opening(sunday_night, Zone.METROPOLITAN) == opens_utc
    assert K4.is_open(closes_utc - timedelta(microseconds=1), Zone.METROPOLITAN)
    assert not K4.is_open(closes_utc, Zone.METROPOLITAN)
    # Overseas zones keep their offset: 07:30 in Martinique is 11:30 UTC all year.
    assert K4.next_opening(sunday_night, Zone.MARTINIQUE) == datetime.combine(
        monday, time(11, 30), tzinfo=UTC
    )


def test_friday_evening_reopens_monday_morning() -> None:
    friday_evening = local(Zone.METROPOLITAN, date(2026, 3, 6), time(19, 0))
    reopening = K4.next_opening(friday_evening, Zone.METROPOLITAN)
    assert reopening.tzinfo is UTC
    assert reopening == local(Zone.METROPOLITAN, date(2026, 3, 9), time(7, 30))


@pytest.mark.parametrize(
    ("friday", "tuesday"),
    [
        (date(2026, 4, 3), date(2026, 4, 7)),  # Easter Monday 6 April
        (date(2026, 5, 22), date(2026, 5, 26)),  # Pentecost Monday 25 May (in the library)
    ],
)
def test_friday_evening_before_a_monday_holiday_reopens_tuesday(
    friday: date, tuesday: date
) -> None:
    friday_evening = local(Zone.METROPOLITAN, friday, time(20, 0))
    assert K4.next_opening(friday_evening, Zone.METROPOLITAN) == local(
        Zone.METROPOLITAN, tuesday, time(7, 30)
    )


def maintenance(starts: datetime, ends: datetime, zones: frozenset[Zone] | None = None) -> Closure:
    return Closure(starts_at=starts, ends_at=ends, reason="maintenance", zones=zones)


def test_a_closure_for_every_zone_shuts_the_middle_of_a_day() -> None:
    wednesday = date(2026, 3, 4)
    closure = maintenance(
        local(Zone.METROPOLITAN, wednesday, time(10)), local(Zone.METROPOLITAN, wednesday, time(12))
    )
    calendar = AccessCalendar(OpeningRules(closures=(closure,)))
    during = local(Zone.METROPOLITAN, wednesday, time(10, 30))
    decision = calendar.decide(during, Zone.METROPOLITAN)
    assert (decision.reason, decision.detail) == (
        *("closure", "fermeture exceptionnelle en France métropolitaine : maintenance"),
    )
    assert decision.next_opening == closure.ends_at
    assert not calendar.is_open(closure.starts_at, Zone.METROPOLITAN)
    assert calendar.is_open(closure.ends_at, Zone.METROPOLITAN)
    assert calendar.decide(during, Zone.LA_REUNION).reason == "closure"  # 13:30 there


def test_a_closure_for_one_zone_leaves_the_others_open() -> None:
    starts = local(Zone.LA_REUNION, date(2026, 3, 4), time(9))
    closure = maintenance(starts, starts + timedelta(hours=2), frozenset({Zone.LA_REUNION}))
    calendar = AccessCalendar(OpeningRules(closures=(closure,)))
    during = starts + timedelta(hours=1)  # 10:00 in La Réunion, 07:00 in Paris, 02:00 in Cayenne
    assert calendar.decide(during, Zone.LA_REUNION).reason == "closure"
    assert calendar.next_opening(during, Zone.LA_REUNION) == closure.ends_at
    assert calendar.is_open(during + timedelta(minutes=30), Zone.METROPOLITAN)
    assert calendar.is_open(local(Zone.MAYOTTE, date(2026, 3, 4), time(10)), Zone.MAYOTTE)


def test_a_closure_over_a_weekend_and_monday_reopens_when_it_ends() -> None:
    starts = local(Zone.METROPOLITAN, date(2026, 3, 6), time(17))  # Friday
    ends = local(Zone.METROPOLITAN, date(2026, 3, 10), time(9, 15))  # Tuesday
    calendar = AccessCalendar(OpeningRules(closures=(maintenance(starts, ends),)))
    friday = calendar.decide(starts + timedelta(hours=1), Zone.METROPOLITAN)
    assert (friday.reason, friday.next_opening) == ("closure", ends)
    saturday = calendar.decide(starts + timedelta(days=1), Zone.METROPOLITAN)
    assert (saturday.reason, saturday.next_opening) == ("weekend", ends)
    monday_opening = local(Zone.METROPOLITAN, date(2026, 3, 9), time(7, 30))
    assert calendar.decide(monday_opening, Zone.METROPOLITAN).reason == "closure"


def test_chained_closures_are_all_skipped_and_one_ending_at_night_reopens_at_0730() -> None:
    monday = date(2026, 3, 9)
    first = maintenance(
        local(Zone.GUYANE, monday, time(6)), local(Zone.GUYANE, monday + timedelta(days=1), time(2))
    )
    second = maintenance(first.ends_at - timedelta(hours=1), first.ends_at + timedelta(hours=3))
    calendar = AccessCalendar(OpeningRules(closures=(first, second)))
    expected = local(Zone.GUYANE, monday + timedelta(days=1), time(7, 30))
    assert calendar.next_opening(first.starts_at, Zone.GUYANE) == expected


def test_no_opening_within_the_horizon_raises_but_still_refuses_cleanly() -> None:
    never = AccessCalendar(OpeningRules(weekdays=frozenset()))
    with pytest.raises(NoOpeningError, match="no opening for metropolitan within 400 days"):
        never.next_opening(utc(2026, 3, 4, 12), Zone.METROPOLITAN)
    decision = never.decide(utc(2026, 3, 4, 12), Zone.METROPOLITAN)
    assert (decision.open, decision.reason, decision.next_opening) == (False, "weekend", None)
    body = problem_details(decision)
    assert body["next_opening"] is None
    assert "Aucune réouverture n'est prévue dans les 400 prochains jours." in str(body["detail"])
    long_closure = maintenance(utc(2026, 1, 1), utc(2028, 1, 1))
    with pytest.raises(NoOpeningError):
        AccessCalendar(OpeningRules(closures=(long_closure,))).next_opening(
            utc(2026, 3, 4, 12), Zone.GUADELOUPE
        )


def test_problem_details_says_why_and_when_it_reopens_in_local_time() -> None:
    decision = K4.decide(local(Zone.LA_REUNION, date(2026, 5, 1), time(9)), Zone.LA_REUNION)
    body = problem_details(decision)
    assert body == {
        "type": PROBLEM_TYPE,
        "title": "Hors des horaires d'ouverture",
        "status": 403,
        "detail": "La plateforme Kairos est ouverte du lundi au vendredi de 07:30 à 19:00, heure"
        " locale, hors jours fériés. Elle est fermée en ce moment (jour férié à La Réunion :"
        " Fête du Travail, vendredi 1er mai 2026). Réouverture le lundi 4 mai 2026 à 07:30"
        " (heure de La Réunion).",
        "reason": "public_holiday",
        "zone": "la-reunion",
        "next_opening": "2026-05-04T03:30:00Z",
    }
    assert PROBLEM_TYPE == "https://kairos.example/problems/outside-access-hours"
    assert json.loads(json.dumps(body)) == body
    with pytest.raises(ValueError, match="nothing to refuse"):
        problem_details(K4.decide(utc(2026, 5, 4, 8), Zone.METROPOLITAN))


def test_problem_details_describes_the_configured_hours() -> None:
    rules = OpeningRules(opens=time(8), closes=time(17, 30), weekdays=frozenset({0, 2, 4}))
    tuesday = local(Zone.MAYOTTE, date(2026, 3, 3), time(9))
    detail = str(problem_details(AccessCalendar(rules).decide(tuesday, Zone.MAYOTTE))["detail"])
    assert detail.startswith("La plateforme Kairos est ouverte les lundi, mercredi et vendredi de")
    assert "de 08:00 à 17:30" in detail
    assert detail.endswith("Réouverture le mercredi 4 mars 2026 à 08:00 (heure de Mayotte).")


def test_rules_and_closures_are_validated() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        maintenance(datetime(2026, 3, 4, 10), utc(2026, 3, 4, 12))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValueError, match="must be after its starts_at"):
        maintenance(utc(2026, 3, 4, 12), utc(2026, 3, 4, 12))
    with pytest.raises(ValueError, match="at least one zone"):
        maintenance(utc(2026, 3, 4, 10), utc(2026, 3, 4, 12), frozenset())
    with pytest.raises(ValueError, match="needs a reason"):
        Closure(utc(2026, 3, 4, 10), utc(2026, 3, 4, 12), reason=" ")
    with pytest.raises(ValueError, match="must be after opens"):
        OpeningRules(opens=time(19), closes=time(7, 30))
    with pytest.raises(ValueError, match=r"0 \(Monday\) to 6 \(Sunday\)"):
        OpeningRules(weekdays=frozenset({1, 7}))
    with pytest.raises(ValueError, match="local wall-clock time"):
        OpeningRules(opens=time(7, 30, tzinfo=UTC))
    with pytest.raises(ValueError, match="instant must be timezone-aware"):
        K4.is_open(datetime(2026, 3, 4, 10), Zone.METROPOLITAN)  # noqa: DTZ001 - naive on purpose


_SETTINGS_VARIABLES = ("OPENS", "CLOSES", "WEEKDAYS", "CLOSURES")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in _SETTINGS_VARIABLES:
        monkeypatch.delenv(f"KAIROS_ACCESS_HOURS_{name}", raising=False)
    return monkeypatch


def test_settings_default_to_k4(environment: pytest.MonkeyPatch) -> None:
    assert AccessHoursSettings().rules() == OpeningRules()


def test_settings_read_the_environment(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("KAIROS_ACCESS_HOURS_OPENS", "08:00")
    environment.setenv("KAIROS_ACCESS_HOURS_CLOSES", "18:30")
    environment.setenv("KAIROS_ACCESS_HOURS_WEEKDAYS", "0, 1,2,3")
    closures = [
        {"starts_at": "2026-05-04T20:00:00+02:00", "ends_at": "2026-05-05T08:00:00+02:00",
         "reason": "maintenance"},
        {"starts_at": "2026-05-06T06:00:00Z", "ends_at": "2026-05-06T08:00:00Z",
         "reason": "migration", "zones": ["la-reunion", "mayotte"]},
    ]  # fmt: skip
    environment.setenv("KAIROS_ACCESS_HOURS_CLOSURES", json.dumps(closures))
    rules = AccessHoursSettings().rules()
    assert (rules.opens, rules.closes, rules.weekdays) == (
        *(time(8), time(18, 30), frozenset({0, 1, 2, 3})),
    )
    assert rules.closures == (
        maintenance(utc(2026, 5, 4, 18), utc(2026, 5, 5, 6)),
        Closure(
            utc(2026, 5, 6, 6),
            utc(2026, 5, 6, 8),
            "migration",
            frozenset({Zone.LA_REUNION, Zone.MAYOTTE}),
        ),
    )
    assert AccessCalendar(rules).next_opening(utc(2026, 5, 5, 5), Zone.METROPOLITAN) == utc(
        2026, 5, 5, 6
    )
    environment.setenv("KAIROS_ACCESS_HOURS_WEEKDAYS", "[4, 5]")
    assert AccessHoursSettings().rules().weekdays == frozenset({4, 5})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "CLOSURES",
            '[{"starts_at": "2026-05-05T08:00:00Z", "ends_at": "2026-05-04T20:00:00Z",'
            ' "reason": "maintenance"}]',
            r"closures\.0\n.*closure ends_at \(2026-05-04T20:00:00\+00:00\) must be after its"
            r" starts_at \(2026-05-05T08:00:00\+00:00\)",
        ),
        (
            "CLOSURES",
            '[{"starts_at": "2026-05-05T08:00:00", "ends_at": "2026-05-05T09:00:00Z",'
            ' "reason": "maintenance"}]',
            r"closure starts_at must be timezone-aware",
        ),
        (
            "CLOSURES",
            '[{"starts_at": "2026-05-05T08:00:00Z"}]',
            r"closures\.0\.ends_at\n  Field required",
        ),
        ("WEEKDAYS", "0,1,7", r"0 \(Monday\) to 6 \(Sunday\)"),
        ("WEEKDAYS", "lundi", r"weekdays\.0\n.*valid integer"),
        ("CLOSES", "07:00", r"closes \(07:00:00\) must be after opens \(07:30:00\)"),
    ],
)
def test_settings_errors_name_the_bad_setting(
    environment: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    environment.setenv(f"KAIROS_ACCESS_HOURS_{name}", value)
    with pytest.raises(ValidationError, match=message):
        AccessHoursSettings()


# Properties, for any instant from 2024 to 2030, any zone, with or without closures around it.

_INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive; timezones= adds UTC
    max_value=datetime(2030, 12, 31),  # noqa: DTZ001 - as above
    timezones=st.just(UTC),
)


@dataclass(frozen=True)
class Scenario:
    calendar: AccessCalendar
    instant: datetime
    zone: Zone


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """An instant and a zone, and up to three closures starting within days of the instant."""
    instant, zone = draw(_INSTANTS), draw(st.sampled_from(Zone))
    closures = []
    for _ in range(draw(st.integers(0, 3))):
        starts = instant + draw(st.timedeltas(timedelta(days=-2), timedelta(days=6)))
        length = draw(st.timedeltas(timedelta(minutes=1), timedelta(days=5)))
        zones = draw(st.none() | st.frozensets(st.sampled_from(Zone), min_size=1))
        closures.append(Closure(starts, starts + length, "maintenance", zones))
    return Scenario(AccessCalendar(OpeningRules(closures=tuple(closures))), instant, zone)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_next_opening_is_the_instant_itself_or_a_later_open_instant(scenario: Scenario) -> None:
    calendar, instant, zone = scenario.calendar, scenario.instant, scenario.zone
    reopening = calendar.next_opening(instant, zone)
    assert reopening >= instant
    assert calendar.is_open(reopening, zone)
    assert (reopening == instant) == calendar.is_open(instant, zone)
    decision = calendar.decide(instant, zone)
    assert (decision.reason is None) == decision.open == calendar.is_open(instant, zone)
    assert decision.next_opening == (None if decision.open else reopening)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_nothing_is_open_between_an_instant_and_its_next_opening(scenario: Scenario) -> None:
    calendar, instant, zone = scenario.calendar, scenario.instant, scenario.zone
    reopening = calendar.next_opening(instant, zone)
    # An open stretch starts at a day's 07:30 or at a closure's end: try those, and a 30' grid.
    samples = {reopening - timedelta(microseconds=1)}
    samples |= {closure.ends_at for closure in calendar.rules.closures}
    day = instant.astimezone(zone.time_zone).date()
    while (opening := local(zone, day, time(7, 30))) < reopening:
        samples.add(opening)
        day += timedelta(days=1)
    step = instant
    while step < reopening:
        samples.add(step)
        step += timedelta(minutes=30)
    for sample in sorted(sample for sample in samples if instant < sample < reopening):
        assert not calendar.is_open(sample, zone), sample


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_open_means_a_working_day_within_hours_and_no_closure(scenario: Scenario) -> None:
    calendar, zone = scenario.calendar, scenario.zone
    opening = calendar.next_opening(scenario.instant, zone)
    for instant in (scenario.instant, opening):
        if not calendar.is_open(instant, zone):
            continue
        wall = instant.astimezone(zone.time_zone)
        national_and_local = holidays.country_holidays("FR", subdiv=zone.holiday_subdivision)
        assert time(7, 30) <= wall.time() < time(19, 0)
        assert wall.weekday() < 5
        assert wall.date() not in national_and_local
        assert not any(closure.covers(instant, zone) for closure in calendar.rules.closures)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_an_open_day_is_one_on_which_the_zone_opens_at_some_instant(scenario: Scenario) -> None:
    """`is_open_day` and `next_open_day` (a deadline's day, K18) agree with `next_opening`."""
    calendar, zone = scenario.calendar, scenario.zone
    day = scenario.instant.astimezone(zone.time_zone).date()
    first_instant = local(zone, day, time(0))
    opening_day = calendar.next_opening(first_instant, zone).astimezone(zone.time_zone).date()
    assert calendar.is_open_day(day, zone) == (opening_day == day)
    assert calendar.next_open_day(day, zone) == opening_day


def test_a_closure_of_part_of_a_day_leaves_the_day_open() -> None:
    day = date(2026, 3, 4)  # a Wednesday
    mayotte = Zone.MAYOTTE
    morning = Closure(local(mayotte, day, time(6)), local(mayotte, day, time(12)), "m")
    evening = Closure(local(mayotte, day, time(12)), local(mayotte, day, time(18, 59)), "e")
    calendar = AccessCalendar(OpeningRules(closures=(morning,)))
    assert calendar.is_open_day(day, Zone.MAYOTTE)
    closed = AccessCalendar(OpeningRules(closures=(morning, evening)))
    assert closed.is_open_day(day, Zone.MAYOTTE)  # 18:59 to 19:00 is still open
    assert closed.is_open_day(day, Zone.METROPOLITAN)
    assert not K4.is_open_day(date(2026, 3, 7), Zone.METROPOLITAN)  # a Saturday
    assert K4.next_open_day(date(2026, 3, 7), Zone.METROPOLITAN) == date(2026, 3, 9)


def test_no_open_day_within_the_horizon_raises() -> None:
    never = AccessCalendar(OpeningRules(weekdays=frozenset({5})))  # Saturdays only
    with pytest.raises(NoOpeningError, match="no open day"):
        AccessCalendar(
            OpeningRules(closures=(Closure(utc(2026, 1, 1), utc(2028, 1, 1), "fermé"),))
        ).next_open_day(date(2026, 3, 4), Zone.METROPOLITAN)
    assert never.next_open_day(date(2026, 3, 4), Zone.METROPOLITAN) == date(2026, 3, 7)
