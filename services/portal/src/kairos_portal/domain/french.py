"""How the portal says things in French: dates (« lundi 4 janvier 2027 »), the services' codes
(roles, statuses, reasons) as words, the labels of each form's fields."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip


def long_date(day: date) -> str:
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def month_name(month: str) -> str:
    """``2027-01`` → « janvier 2027 »."""
    year, number = month.split("-")
    return f"{_MONTHS[int(number) - 1]} {year}"


def date_time(instant: datetime, zone: ZoneInfo = PARIS) -> str:
    local = instant.astimezone(zone)
    text = f"{long_date(local.date())} à {local:%H:%M}"
    return text if zone == PARIS else f"{text} ({zone.key})"


def iso_date_text(value: str | None) -> str:
    if not value:
        return ""
    try:
        if "T" in value:
            return date_time(datetime.fromisoformat(value))
        return long_date(date.fromisoformat(value))
    except ValueError:
        return value


STATUSES = {
    "active": "active", "pending": "en attente d'ouverture du compte", "ended": "terminée",
    "suspended": "suspendue", "validated": "active", "requested": "demandée",
    "withdrawn": "retirée", "expired": "expirée", "rejected": "rejetée",
}  # fmt: skip
ROLES = {"user": "Utilisateur habilité", "head": "Responsable de l'organisme",
         "rgc": "RGC", "operator": "Opérateur"}  # fmt: skip
END_REASONS = {
    "departure": "Départ de l'organisme",
    "absence_over_3_months": "Absence de plus de 3 mois",
    "change_of_function": "Changement de fonction",
    "breach_of_terms": "Manquement aux conditions d'utilisation",
}
EXIT_KINDS = {"completion": "Fin de formation", "abandonment": "Abandon"}
EXIT_REASONS = {
    "training_completed": "Formation terminée", "employment": "Reprise d'emploi",
    "other_training": "Autre formation", "health": "Santé",
    "personal_reasons": "Raisons personnelles", "excluded": "Exclusion", "other": "Autre",
}  # fmt: skip
KINDS = {
    "interruption": "Interruption", "correspondent": "Correspondant formation",
    "information_meetings": "Réunions d'information",
    "information_meeting_result": "Résultat de réunion d'information",
    "entry": "Entrée en formation", "attendance": "État de présence mensuel",
    "exit": "Abandon / sortie",
}  # fmt: skip


MEETING_RESULTS = {"enrolled": "Inscrit", "not_enrolled": "Non inscrit",
                   "waiting_list": "Sur liste d'attente"}  # fmt: skip


def word(table: dict[str, str], code: object) -> str:
    return table.get(str(code), str(code))
