"""Access hours (K4): when OF roles may use the platform, zone by zone.

The platform is open on the configured weekdays (Monday to Friday) from ``opens`` to ``closes``
(07:30 to 19:00, 19:00 itself closed) in the OF's zone's local time, except on the zone's public
holidays and during configured closures (a maintenance window is one, §3). Closures are absolute
instants, for every zone or for some. This module is pure: no I/O and no clock, so a service's
domain may import it; callers pass the instant (from their injected clock).

Operators are not limited (K4): exempting them is the caller's business. Check the role first and
consult the calendar only for OF roles (head, RGC, user); refuse with :func:`problem_details`.

Wall-clock times become instants with :mod:`zoneinfo`, so 07:30 stays 07:30 local across a DST
change (a time that a change skips is read with the offset before it, PEP 495 ``fold=0``). Each day
is open over the instants [opens, closes); ``decide``, ``is_open`` and ``next_opening`` are all
computed from those intervals, so they agree with one another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal, Self

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from kairos_shared.problems import Problem
from kairos_shared.zones import Zone, public_holidays

PROBLEM_TYPE = "https://kairos.example/problems/outside-access-hours"
PROBLEM_TITLE = "Hors des horaires d'ouverture"
SEARCH_HORIZON = timedelta(days=400)

ClosedReason = Literal["weekend", "public_holiday", "before_opening", "after_closing", "closure"]

_WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTH_NAMES = (
    *("janvier", "février", "mars", "avril", "mai", "juin"),
    *("juillet", "août", "septembre", "octobre", "novembre", "décembre"),
)


class NoOpeningError(LookupError):
    """The rules and closures leave no opening within :data:`SEARCH_HORIZON`."""


@dataclass(frozen=True)
class Closure:
    """A configured closure, e.g. maintenance (§3): instants [starts_at, ends_at), some zones or all
    (``zones=None``). Its ``reason`` is shown to users."""

    starts_at: datetime
    ends_at: datetime
    reason: str
    zones: frozenset[Zone] | None = None

    def __post_init__(self) -> None:
        _require_aware(self.starts_at, "closure starts_at")
        _require_aware(self.ends_at, "closure ends_at")
        if self.ends_at <= self.starts_at:
            raise ValueError(
                f"closure ends_at ({self.ends_at.isoformat()}) must be after its starts_at"
                f" ({self.starts_at.isoformat()})"
            )
        if not self.reason.strip():
            raise ValueError("a closure needs a reason: it is shown to the users it refuses")
        if self.zones is not None and not self.zones:
            raise ValueError("closure zones must name at least one zone, or be null for every zone")

    def covers(self, instant: datetime, zone: Zone) -> bool:
        """Whether this closure shuts ``zone`` at ``instant``."""
        return (self.zones is None or zone in self.zones) and (
            self.starts_at <= instant < self.ends_at
        )


@dataclass(frozen=True)
class OpeningRules:
    """When the platform is open: ``weekdays`` (0 = Monday) from ``opens`` to ``closes``, local
    wall-clock times, minus ``closures``. The defaults are K4's."""

    opens: time = time(7, 30)
    closes: time = time(19, 0)
    weekdays: frozenset[int] = frozenset(range(5))
    closures: tuple[Closure, ...] = ()

    def __post_init__(self) -> None:
        for name, value in (("opens", self.opens), ("closes", self.closes)):
            if value.tzinfo is not None:
                raise ValueError(f"{name} is a local wall-clock time: give it without a time zone")
        if self.closes <= self.opens:
            raise ValueError(f"closes ({self.closes}) must be after opens ({self.opens})")
        if not self.weekdays <= frozenset(range(7)):
            raise ValueError(f"weekdays run from 0 (Monday) to 6 (Sunday): {sorted(self.weekdays)}")


class AccessHoursSettings(BaseSettings):
    """K4's configuration from ``KAIROS_ACCESS_HOURS_*``: ``OPENS``/``CLOSES`` (``07:30``),
    ``WEEKDAYS`` (``0,1,2,3,4`` or a JSON list) and ``CLOSURES`` (a JSON list of objects with
    ``starts_at``, ``ends_at``, ``reason`` and optional ``zones``). Checked when loaded."""

    model_config = SettingsConfigDict(
        env_prefix="KAIROS_ACCESS_HOURS_", extra="ignore", frozen=True
    )

    opens: time = time(7, 30)
    closes: time = time(19, 0)
    weekdays: Annotated[frozenset[int], NoDecode] = frozenset(range(5))
    closures: tuple[Closure, ...] = ()

    @field_validator("weekdays", mode="before")
    @classmethod
    def _comma_separated_or_json(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if value.strip().startswith("["):
            return json.loads(value)
        return [part.strip() for part in value.split(",") if part.strip()]

    @model_validator(mode="after")
    def _rules_are_valid(self) -> Self:
        self.rules()
        return self

    def rules(self) -> OpeningRules:
        """The opening rules these settings describe."""
        return OpeningRules(self.opens, self.closes, self.weekdays, self.closures)


@dataclass(frozen=True)
class AccessDecision:
    """Whether OF roles may use the platform at an instant in a zone, and if not why and until when.

    ``reason`` is for machines (None when open), ``detail`` for people (French, names the zone).
    ``next_opening`` (UTC) is None when open, or when no opening exists within the search horizon.
    ``rules`` are those it was taken under: :func:`problem_details` states them to the user.
    """

    open: bool
    zone: Zone
    local_time: datetime
    reason: ClosedReason | None
    detail: str | None
    next_opening: datetime | None
    rules: OpeningRules = OpeningRules()


class AccessCalendar:
    """Answers K4's questions for given opening rules; public holidays come from the zone."""

    def __init__(self, rules: OpeningRules) -> None:
        self._rules = rules

    @property
    def rules(self) -> OpeningRules:
        return self._rules

    def decide(self, instant: datetime, zone: Zone) -> AccessDecision:
        """The decision for an OF role at ``instant`` (aware) in ``zone``."""
        moment = _as_utc(instant)
        local_time = moment.astimezone(zone.time_zone)
        closed = self._closed_because(moment, local_time.date(), zone)
        if closed is None:
            return AccessDecision(True, zone, local_time, None, None, None, self._rules)
        reason, detail = closed
        reopens = self._search(moment, zone)
        return AccessDecision(False, zone, local_time, reason, detail, reopens, self._rules)

    def is_open(self, instant: datetime, zone: Zone) -> bool:
        moment = _as_utc(instant)
        return self._closed_because(moment, moment.astimezone(zone.time_zone).date(), zone) is None

    def next_opening(self, instant: datetime, zone: Zone) -> datetime:
        """The first instant (UTC) ≥ ``instant`` at which ``zone`` is open: ``instant`` itself
        when open. Raises :class:`NoOpeningError` if none within :data:`SEARCH_HORIZON`."""
        moment = _as_utc(instant)
        found = self._search(moment, zone)
        if found is None:
            raise NoOpeningError(
                f"no opening for {zone} within {SEARCH_HORIZON.days} days of {moment.isoformat()}:"
                " check the weekdays and closures"
            )
        return found

    def is_open_day(self, day: date, zone: Zone) -> bool:
        """Whether ``zone`` opens at some instant of its local ``day``: an opening weekday, no
        public holiday, and configured closures that leave some of its hours open. A deadline
        (K18) never falls on a day that is not."""
        if not self._is_opening_day(day, zone):
            return False
        candidate, closes_at = self._hours(day, zone)
        while candidate < closes_at:
            closure = self._closure_at(candidate, zone)
            if closure is None:
                return True
            candidate = closure.ends_at.astimezone(UTC)  # strictly later: a closure is jumped once
        return False

    def next_open_day(self, day: date, zone: Zone) -> date:
        """``day`` itself when ``zone`` opens on it (:meth:`is_open_day`), else the first open
        day after it. Raises :class:`NoOpeningError` if none within :data:`SEARCH_HORIZON`."""
        candidate = day
        while candidate < day + SEARCH_HORIZON:
            if self.is_open_day(candidate, zone):
                return candidate
            candidate += timedelta(days=1)
        raise NoOpeningError(
            f"no open day for {zone} within {SEARCH_HORIZON.days} days of {day.isoformat()}:"
            " check the weekdays and closures"
        )

    def _closed_because(
        self, moment: datetime, day: date, zone: Zone
    ) -> tuple[ClosedReason, str] | None:
        """Why ``zone`` is closed at ``moment`` (whose local date is ``day``); None if open."""
        where, weekday = zone.french_locative, day.weekday()
        if weekday not in self._rules.weekdays:
            return "weekend", f"pas d'ouverture le {_WEEKDAY_NAMES[weekday]} {where}"
        holiday = public_holidays(zone, day.year).get(day)
        if holiday is not None:
            return "public_holiday", f"jour férié {where} : {holiday}, {_french_date(day)}"
        opens_at, closes_at = self._hours(day, zone)
        local = f"{where}, {zone.french_time_label}"
        if moment < opens_at:
            return "before_opening", f"avant l'ouverture de {_hhmm(self._rules.opens)} {local}"
        if moment >= closes_at:
            return "after_closing", f"après la fermeture de {_hhmm(self._rules.closes)} {local}"
        closure = self._closure_at(moment, zone)
        if closure is not None:
            return "closure", f"fermeture exceptionnelle {where} : {closure.reason}"
        return None

    def _search(self, moment: datetime, zone: Zone) -> datetime | None:
        """The first open instant ≥ ``moment`` within the horizon, or None.

        Day by day: skip closed days, move up to the opening, jump to the end of a closure. Each
        step moves strictly forward, and a closure is jumped over at most once."""
        limit = moment + SEARCH_HORIZON
        candidate = moment
        while candidate < limit:
            day = candidate.astimezone(zone.time_zone).date()
            if self._is_opening_day(day, zone):
                opens_at, closes_at = self._hours(day, zone)
                candidate = max(candidate, opens_at)
                if candidate < closes_at:
                    closure = self._closure_at(candidate, zone)
                    if closure is None:
                        return candidate
                    candidate = closure.ends_at.astimezone(UTC)
                    continue
            candidate = _local_instant(day + timedelta(days=1), time(0), zone)
        return None

    def _is_opening_day(self, day: date, zone: Zone) -> bool:
        return day.weekday() in self._rules.weekdays and day not in public_holidays(zone, day.year)

    def _hours(self, day: date, zone: Zone) -> tuple[datetime, datetime]:
        """The instants (UTC) at which ``day`` opens and closes in ``zone``."""
        return (
            _local_instant(day, self._rules.opens, zone),
            _local_instant(day, self._rules.closes, zone),
        )

    def _closure_at(self, moment: datetime, zone: Zone) -> Closure | None:
        return next((c for c in self._rules.closures if c.covers(moment, zone)), None)


def problem_details(decision: AccessDecision) -> dict[str, object]:
    """The RFC 9457 body (status 403) refusing an OF role outside access hours, in French: the
    hours, why it is closed now, and when it reopens in the zone's local time."""
    if decision.open:
        raise ValueError("the platform is open: there is nothing to refuse")
    rules, zone = decision.rules, decision.zone
    hours = (
        f"La plateforme Kairos est ouverte {_french_weekdays(rules.weekdays)} de"
        f" {_hhmm(rules.opens)} à {_hhmm(rules.closes)}, heure locale, hors jours fériés."
    )
    why = f"Elle est fermée en ce moment ({decision.detail})."
    if decision.next_opening is None:
        when = f"Aucune réouverture n'est prévue dans les {SEARCH_HORIZON.days} prochains jours."
    else:
        local = decision.next_opening.astimezone(zone.time_zone)
        when = (
            f"Réouverture le {_french_date(local.date())} à {_hhmm(local.time())}"
            f" ({zone.french_time_label})."
        )
    return {
        "type": PROBLEM_TYPE,
        "title": PROBLEM_TITLE,
        "status": 403,
        "detail": f"{hours} {why} {when}",
        "reason": decision.reason,
        "zone": zone.value,
        "next_opening": None if decision.next_opening is None else _rfc3339(decision.next_opening),
    }


def refusal(decision: AccessDecision) -> Problem:
    """The :class:`Problem` (403) refusing an OF role outside access hours: `problem_details`."""
    body = problem_details(decision)
    return Problem(
        status=403,
        title=str(body["title"]),
        detail=str(body["detail"]),
        type=str(body["type"]),
        extensions={
            k: v for k, v in body.items() if k not in {"type", "title", "status", "detail"}
        },
    )


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware: {value.isoformat()}")


def _as_utc(instant: datetime) -> datetime:
    _require_aware(instant, "instant")
    return instant.astimezone(UTC)


def _local_instant(day: date, wall_clock: time, zone: Zone) -> datetime:
    """The instant (UTC) at which ``zone``'s clocks show ``wall_clock`` on ``day`` (fold=0)."""
    return datetime.combine(day, wall_clock, tzinfo=zone.time_zone).astimezone(UTC)


def _hhmm(wall_clock: time) -> str:
    return wall_clock.strftime("%H:%M" if wall_clock.second == 0 else "%H:%M:%S")


def _french_date(day: date) -> str:
    number = "1er" if day.day == 1 else str(day.day)
    weekday, month = _WEEKDAY_NAMES[day.weekday()], _MONTH_NAMES[day.month - 1]
    return f"{weekday} {number} {month} {day.year}"


def _french_weekdays(weekdays: frozenset[int]) -> str:
    """``du lundi au vendredi``, ``le samedi``, ``les lundi, mercredi et vendredi``."""
    names = [_WEEKDAY_NAMES[day] for day in sorted(weekdays)]
    if not names:
        return "aucun jour"
    if len(names) == 1:
        return f"le {names[0]}"
    if sorted(weekdays) == list(range(min(weekdays), max(weekdays) + 1)):
        return f"du {names[0]} au {names[-1]}"
    return f"les {', '.join(names[:-1])} et {names[-1]}"


def _rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
