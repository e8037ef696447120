"""Request bodies of the declaration API: one per kind (K16), validated field by field; the
rules that need the trainee's history (K19) are the domain's. Unknown fields are refused."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kairos_schemas.declaration import (
    ExitReason,
    Hours,
    InformationMeeting,
    TrainingSession,
)
from kairos_shared.email_addresses import EMAIL_MAX_LENGTH


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class SessionBody(Body):
    action_number: str = Field(min_length=1, max_length=40)
    session_number: str = Field(min_length=1, max_length=40)
    starts_on: date
    ends_on: date
    weekly_hours: float = Field(gt=0, le=60)


class KindBodyBase(Body):
    """What every declaration body has: the session it is about."""

    session: TrainingSession


class _TraineeBody(KindBodyBase):
    trainee_id: str = Field(min_length=1, max_length=20, description="France Travail identifier")


class InterruptionBody(KindBodyBase):
    starts_on: date
    ends_on: date
    reason: str = Field(min_length=1, max_length=500)


NAME_MAX_LENGTH = 100


class Correspondent(BaseModel):
    """The OF's contact person, as the contract's `Correspondent` with every string bounded: a
    1.2 MB e-mail address was accepted and its event, too large for Kafka, was never published."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH)
    last_name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH)
    email: str = Field(min_length=3, max_length=EMAIL_MAX_LENGTH)
    phone: str = Field(max_length=21, pattern=r"^\+?[0-9 .]{6,20}$")


class CorrespondentBody(KindBodyBase):
    correspondent: Correspondent


class InformationMeetingsBody(KindBodyBase):
    meetings: list[InformationMeeting] = Field(min_length=1, max_length=200)


class InformationMeetingResultBody(_TraineeBody):
    result: Literal["enrolled", "not_enrolled", "waiting_list"]


class EntryBody(_TraineeBody):
    entered_on: date
    funded_by: str | None = Field(default=None, max_length=100)


class AttendanceBody(_TraineeBody):
    month: str = Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    attended_hours: Hours
    justified_absence_hours: Hours = 0
    unjustified_absence_hours: Hours = 0


class ExitBody(_TraineeBody):
    exited_on: date
    exit_kind: Literal["completion", "abandonment"]
    reason: ExitReason


KindBody = (
    InterruptionBody
    | CorrespondentBody
    | InformationMeetingsBody
    | InformationMeetingResultBody
    | EntryBody
    | AttendanceBody
    | ExitBody
)


class CancellationBody(Body):
    reason: str = Field(min_length=1, max_length=500)


class AttendanceBatchBody(Body):
    rows: list[AttendanceBody] = Field(min_length=1, max_length=5000)
