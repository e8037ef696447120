"""Every rule a declaration of any kind must pass before it is accepted (K19), in one place."""

from __future__ import annotations

from datetime import date

from kairos_declaration.domain.consistency import (
    check_attendance,
    check_correspondent,
    check_entry,
    check_exit,
    check_interruption,
    check_meetings,
    check_result,
)
from kairos_declaration.domain.declarations import (
    Attendance,
    Correspondent,
    Declaration,
    Entry,
    Exit,
    InformationMeetingResult,
    InformationMeetings,
    Interruption,
)
from kairos_declaration.domain.history import TraineeHistory
from kairos_declaration.domain.sessions import TrainingSession
from kairos_shared.zones import Zone


def check_declaration(
    declaration: Declaration,
    session: TrainingSession,
    history: TraineeHistory,
    today: date,
    zone: Zone,
) -> None:
    """Raise DeclarationRejected naming every bad field of `declaration`, given the session
    and the trainee's live declarations in it (without the version a correction replaces)."""
    match declaration:
        case Entry():
            check_entry(session, history, declaration, today)
        case Exit():
            check_exit(session, history, declaration, today)
        case Attendance():
            check_attendance(session, history, declaration, today, zone)
        case InformationMeetingResult():
            check_result(declaration)
        case Interruption():
            check_interruption(session, declaration)
        case Correspondent():
            check_correspondent(declaration)
        case InformationMeetings():
            check_meetings(declaration)
