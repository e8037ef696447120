"""Every accepted version of a declaration as the integrators receive it (K21, contract §3)."""

from __future__ import annotations

from kairos_declaration.adapters.declarations import DeclarationVersion
from kairos_schemas import Event
from kairos_schemas import declaration as contracts

EVENT_OF_KIND = {event.kind: event for event in contracts.DECLARATIONS}


def _session(version: DeclarationVersion) -> contracts.TrainingSession:
    return contracts.TrainingSession(
        action_number=version.action_number, session_number=version.session_number
    )


def event_of(version: DeclarationVersion) -> Event:
    """The event of one version: the kind's event (a correction when version > 1), or the
    cancellation."""
    if version.cancelled:
        return contracts.DeclarationCancelled(
            declaration_id=str(version.declaration_id), version=version.version,
            kind=version.kind, organisation_id=str(version.organisation_id),
            session=_session(version), trainee_id=version.trainee_id,
            cancelled_by=str(version.declared_by), cancelled_at=version.declared_at,
            reason=version.reason or "",
        )  # fmt: skip
    common: dict[str, object] = {
        "declaration_id": str(version.declaration_id), "version": version.version,
        "organisation_id": str(version.organisation_id), "session": _session(version),
        "declared_by": str(version.declared_by), "declared_at": version.declared_at,
        "due_by": version.due_by, "late": version.late,
        "correction_reason": version.reason if version.version > 1 else None,
        "first_declared_at": version.judged_at,
    }  # fmt: skip
    if version.trainee_id is not None:
        common["trainee_id"] = version.trainee_id
    return EVENT_OF_KIND[version.kind].model_validate({**common, **version.payload})
