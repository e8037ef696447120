"""From request bodies to the domain's declarations: identifiers parsed (K16), hours exact;
what cannot be read is refused naming the field, like the rules do."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kairos_declaration.domain.declarations import (
    Attendance,
    Correspondent,
    Declaration,
    Entry,
    Exit,
    ExitKind,
    ExitReason,
    InformationMeetingResult,
    InformationMeetings,
    Interruption,
    Meeting,
    MeetingKind,
    MeetingResult,
)
from kairos_declaration.domain.errors import DeclarationRejected, FieldProblem
from kairos_declaration.domain.identifiers import parse_france_travail_id
from kairos_declaration.domain.months import Month
from kairos_declaration.domain.sessions import as_decimal
from kairos_declaration.entrypoints import bodies
from kairos_declaration.service_layer.declaring import SessionRef, Submission

B = TypeVar("B", bound=BaseModel)


def _declaration(body: bodies.KindBodyBase) -> Declaration:  # noqa: PLR0911 - one per kind
    match body:
        case bodies.InterruptionBody():
            return Interruption(body.starts_on, body.ends_on, body.reason)
        case bodies.CorrespondentBody(correspondent=c):
            return Correspondent(c.first_name, c.last_name, c.email, c.phone)
        case bodies.InformationMeetingsBody(meetings=meetings):
            return InformationMeetings(tuple(
                Meeting(m.meeting_id, MeetingKind(m.meeting_kind), m.starts_at, m.place)
                for m in meetings
            ))  # fmt: skip
        case bodies.InformationMeetingResultBody():
            trainee = parse_france_travail_id(body.trainee_id)
            return InformationMeetingResult(trainee, MeetingResult(body.result))
        case bodies.EntryBody():
            return Entry(parse_france_travail_id(body.trainee_id), body.entered_on, body.funded_by)
        case bodies.AttendanceBody():
            return Attendance(
                parse_france_travail_id(body.trainee_id), Month.parse(body.month),
                as_decimal(body.attended_hours), as_decimal(body.justified_absence_hours),
                as_decimal(body.unjustified_absence_hours),
            )  # fmt: skip
        case bodies.ExitBody():
            trainee = parse_france_travail_id(body.trainee_id)
            return Exit(trainee, body.exited_on, ExitKind(body.exit_kind), ExitReason(body.reason))
    raise TypeError(f"not a declaration body: {type(body).__name__}")  # pragma: no cover


def submission_of(body: bodies.KindBodyBase) -> Submission:
    """The submission `body` describes; DeclarationRejected naming what cannot be read."""
    session = SessionRef(body.session.action_number, body.session.session_number)
    return Submission(session, _declaration(body))


def _path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".")


def validated(model: type[B], data: Any) -> B:
    """`data` as `model`, or DeclarationRejected naming every bad field by its path."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [FieldProblem(_path(e["loc"]) or "body", e["msg"]) for e in error.errors()]
        raise DeclarationRejected(problems) from None
