"""The French label of each field a form sends, by the name the service gives it (its JSON
path): the summary and the messages beside fields use them, in the form's order."""

from __future__ import annotations

LOGIN = {"login_id": "Identifiant", "password": "Mot de passe"}
PASSWORD_CHANGE = {
    "current_password": "Mot de passe actuel",
    "new_password": "Nouveau mot de passe",
}
HABILITATION = {
    "person.first_name": "Prénom",
    "person.last_name": "Nom",
    "person.email": "Adresse électronique",
    "function": "Fonction",
    "role": "Rôle",
    "authorisation.signed_by": "Signataire de l'autorisation",
    "authorisation.signed_on": "Date de signature",
    "authorisation.document_sha256": "Autorisation signée (document)",
    "employee_attested": "Attestation d'emploi",
}
ENDING = {"reason": "Motif de fin"}
SESSION = {
    "action_number": "Numéro d'action",
    "session_number": "Numéro de session",
    "starts_on": "Date de début",
    "ends_on": "Date de fin",
    "weekly_hours": "Heures par semaine",
}
_TRAINEE = {
    "session.action_number": "Numéro d'action",
    "session.session_number": "Numéro de session",
    "trainee_id": "Identifiant France Travail du stagiaire",
}
ENTRY = {**_TRAINEE, "entered_on": "Date d'entrée", "funded_by": "Financeur"}
EXIT = {**_TRAINEE, "exited_on": "Date de sortie", "exit_kind": "Nature de la sortie",
        "reason": "Motif"}  # fmt: skip
ATTENDANCE_COLUMNS = {
    "trainee_id": "Stagiaire",
    "action_number": "Numéro d'action",
    "session_number": "Numéro de session",
    "month": "Mois",
    "attended_hours": "Heures suivies",
    "justified_absence_hours": "Absences justifiées (h)",
    "unjustified_absence_hours": "Absences non justifiées (h)",
}
CANCELLATION = {"reason": "Motif de l'annulation"}
CORRECTABLE: dict[str, dict[str, str]] = {
    "entry": {"entered_on": "Date d'entrée", "funded_by": "Financeur"},
    "attendance": {
        "attended_hours": "Heures suivies",
        "justified_absence_hours": "Absences justifiées (h)",
        "unjustified_absence_hours": "Absences non justifiées (h)",
    },
    "exit": {"exited_on": "Date de sortie", "exit_kind": "Nature de la sortie", "reason": "Motif"},
    "interruption": {"starts_on": "Date de début", "ends_on": "Date de fin", "reason": "Motif"},
    "information_meeting_result": {"result": "Résultat"},
}
"""Per kind, the fields a correction restates from the form (the session, the trainee and the
month are the declaration's own and are sent as they were)."""
CORRECTION_REASON = {"correction_reason": "Motif de la correction"}
LATENESS = {"since": "Du", "until": "Au (exclu)"}
INTERRUPTION = {
    "starts_on": "Début de l'interruption",
    "ends_on": "Fin de l'interruption",
    "reason": "Motif de l'interruption",
}
