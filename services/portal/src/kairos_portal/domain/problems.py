"""The services' RFC 9457 problems, read for a page: a French title by problem type, the
service's own detail, and each field error placed where the form shows that field.

The portal decides no rule: it only says in French what the service answered, next to the field
the service named, its English field message in French (:mod:`.field_messages`)
(``body.person.email`` → the form's ``person.email``; ``rows[3].month`` → row
4 of a grid, column « mois »).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kairos_portal.domain.field_messages import french_message
from kairos_portal.domain.french import date_time

MAX_TEXT = 2000
_BASE = "https://kairos.example/problems/"

FRENCH_TITLES: dict[str, str] = {
    "invalid-request": "Certaines informations sont à corriger",
    "login-refused": "Identifiant ou mot de passe incorrect",
    "login-throttled": "Trop de tentatives de connexion",
    "outside-access-hours": "Hors des horaires d'ouverture",
    "not-habilitated": "Vous n'êtes pas (ou plus) habilité à déclarer pour cet organisme",
    "organisation-access-not-active": "L'accès de votre organisme n'est pas actif",
    "password-change-required": "Vous devez d'abord choisir votre mot de passe",
    "session-ended": "Votre session a pris fin",
    "unauthenticated": "Votre session a pris fin",
    "forbidden": "Cette action ne vous est pas permise",
    "not-found": "Introuvable",
    "credentials-already-retrieved": "Les identifiants provisoires ont déjà été remis",
    "provisional-credentials-expired": "Les identifiants provisoires ont expiré",
    "invalid-state": "Cette action n'est pas possible en l'état",
    "idempotency-key-reused": "Ce formulaire a déjà été envoyé avec d'autres valeurs",
    "idempotency-key-in-progress": "Ce formulaire est déjà en cours d'envoi",
    "rate-limited": "Trop de demandes en peu de temps",
    "declaration-cancelled": "Cette déclaration est annulée",
    "entry-has-declarations": "Cette entrée a des déclarations qui en dépendent",
    "habilitation-suspended": "Cette habilitation est suspendue",
    "duplicate-adhesion": "Une adhésion existe déjà pour ce SIRET",
    "keys-unavailable": "Service momentanément indisponible",
    "body-too-large": "L'envoi est trop volumineux",
}


@dataclass(frozen=True)
class FieldError:
    """A service's message about one field of what was sent (its path, without ``body.``)."""

    path: str
    message: str

    @property
    def row(self) -> int | None:
        """The 0-based row of a batch (``rows[3].month`` → 3), or None."""
        if not self.path.startswith("rows["):
            return None
        index = self.path[5:].split("]", 1)[0]
        return int(index) if index.isdigit() else None

    @property
    def column(self) -> str:
        """The field within its row (``rows[3].month`` → ``month``), or the whole path."""
        if self.row is None:
            return self.path
        rest = self.path.split("]", 1)[1].lstrip(".")
        return rest.removeprefix("session.") if rest.startswith("session.") else rest


@dataclass(frozen=True)
class ServiceProblem:
    """A refusal as a service answered it."""

    status: int
    type: str
    """The problem type's slug (``invalid-request``), or the type URI when it is not ours."""
    title: str
    detail: str
    errors: tuple[FieldError, ...] = ()
    retry_after_seconds: int | None = None
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def french_title(self) -> str:
        if self.type == "login-throttled" and self.extensions.get("locked"):
            return "Compte verrouillé pour un moment après trop d'échecs"
        if self.is_activation_pending:
            return "Votre organisme est en cours d'activation"
        return FRENCH_TITLES.get(self.type, self.title[:MAX_TEXT] or "Refusé par le service")

    @property
    def french_detail(self) -> str:
        """The service's detail, or a French sentence where the portal knows the refusal's
        shape (when a throttled login may be tried again, in the person's time). A refused form
        whose fields are all named says nothing more: its detail only repeats the field
        messages, in English."""
        if self.type == "invalid-request" and self.errors:
            return ""
        if self.type == "login-throttled" and isinstance(self.extensions.get("retry_after"), str):
            try:
                again = datetime.fromisoformat(self.extensions["retry_after"])
            except ValueError:
                return self.detail
            return f"Vous pourrez réessayer à partir du {date_time(again)}."
        return self.detail

    @property
    def is_activation_pending(self) -> bool:
        """A 503 with Retry-After: what was accepted elsewhere has not reached this service yet
        (eventual consistency), not an error."""
        return self.status == 503 and self.retry_after_seconds is not None  # noqa: PLR2004

    @property
    def is_unauthenticated(self) -> bool:
        return self.status == 401  # noqa: PLR2004


def _slug(type_uri: str) -> str:
    return type_uri.removeprefix(_BASE)


def _path(raw: str) -> str:
    return raw.removeprefix("body.").removeprefix("body")


def parse_problem(status: int, body: Any, retry_after: str | None = None) -> ServiceProblem:
    """Whatever a service answered with a non-2xx status, as a :class:`ServiceProblem`."""
    data = body if isinstance(body, dict) else {}
    errors = tuple(
        FieldError(
            _path(str(e.get("field", ""))[:200]),
            french_message(
                str(e.get("message", ""))[:MAX_TEXT], str(e.get("type", ""))[:100], e.get("ctx")
            ),
        )
        for e in data.get("errors", []) or []
        if isinstance(e, dict)
    )
    known = {"type", "title", "status", "detail", "errors", "instance"}
    seconds = int(retry_after) if retry_after and retry_after.strip().isdigit() else None
    return ServiceProblem(
        status=status,
        type=_slug(str(data.get("type", "about:blank"))),
        title=str(data.get("title", ""))[:MAX_TEXT],
        detail=str(data.get("detail", ""))[:MAX_TEXT],
        errors=errors,
        retry_after_seconds=seconds,
        extensions={k: v for k, v in data.items() if k not in known},
    )
