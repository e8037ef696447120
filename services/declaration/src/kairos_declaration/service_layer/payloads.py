"""A declaration's own fields as stored and published (the contracts' shape, K21), and back."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

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
    Kind,
    Meeting,
    MeetingKind,
    MeetingResult,
)
from kairos_declaration.domain.months import Month

_SCALARS: tuple[tuple[type[Any], Callable[[Any], Any]], ...] = (
    (enum.Enum, lambda v: v.value),
    (date, lambda v: v.isoformat()),  # datetime too
    (Decimal, float),
    (Month, str),
)


def _json(value: Any) -> Any:
    for kind, convert in _SCALARS:
        if isinstance(value, kind):
            return convert(value)
    if isinstance(value, tuple):
        return [_json(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def payload_of(declaration: Declaration) -> dict[str, Any]:
    """The kind's fields as JSON values, without the trainee (carried beside them); a
    correspondent's contact details are nested under `correspondent`, as in the contract."""
    fields: dict[str, Any] = _json(declaration)
    fields.pop("trainee_id", None)
    return {"correspondent": fields} if isinstance(declaration, Correspondent) else fields


def _hours(value: Any) -> Decimal:
    return Decimal(str(value))


def _meetings(_trainee: str, p: dict[str, Any]) -> InformationMeetings:
    return InformationMeetings(tuple(
        Meeting(m["meeting_id"], MeetingKind(m["meeting_kind"]),
                datetime.fromisoformat(m["starts_at"]), m["place"])
        for m in p["meetings"]
    ))  # fmt: skip


def _attendance(trainee: str, p: dict[str, Any]) -> Attendance:
    return Attendance(
        trainee, Month.parse(p["month"]), _hours(p["attended_hours"]),
        _hours(p["justified_absence_hours"]), _hours(p["unjustified_absence_hours"]),
    )  # fmt: skip


_BUILDERS: dict[Kind, Callable[[str, dict[str, Any]], Declaration]] = {
    Kind.INTERRUPTION: lambda _t, p: Interruption(
        date.fromisoformat(p["starts_on"]), date.fromisoformat(p["ends_on"]), p["reason"]
    ),
    Kind.CORRESPONDENT: lambda _t, p: Correspondent(**p["correspondent"]),
    Kind.INFORMATION_MEETINGS: _meetings,
    Kind.INFORMATION_MEETING_RESULT: lambda t, p: InformationMeetingResult(
        t, MeetingResult(p["result"])
    ),
    Kind.ENTRY: lambda t, p: Entry(t, date.fromisoformat(p["entered_on"]), p.get("funded_by")),
    Kind.ATTENDANCE: _attendance,
    Kind.EXIT: lambda t, p: Exit(
        t, date.fromisoformat(p["exited_on"]), ExitKind(p["exit_kind"]), ExitReason(p["reason"])
    ),
}


def declaration_of(kind: str, trainee_id: str | None, payload: dict[str, Any]) -> Declaration:
    """The domain declaration a stored payload describes (the inverse of `payload_of`)."""
    return _BUILDERS[Kind(kind)](trainee_id or "", payload)
