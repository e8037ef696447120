"""The seven kinds of declaration an OF transmits (K16), as plain values.

Each mirrors the fields of its event in `kairos_schemas.declaration`, the session and the
version aside (they identify the declaration: see `versions`). Values are checked by the rules
of `consistency` (K19), not here: a declaration object may hold anything a request carried, so
that every bad field can be reported at once. Hours are `Decimal`, counted in quarters of an
hour; an attendance statement covers one calendar `Month`.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from kairos_declaration.domain.months import Month


class Kind(StrEnum):
    """The declaration kinds, in the order of the decree's list (K16): the values of the
    contracts' ``DeclarationKind``."""

    INTERRUPTION = "interruption"
    CORRESPONDENT = "correspondent"
    INFORMATION_MEETINGS = "information_meetings"
    INFORMATION_MEETING_RESULT = "information_meeting_result"
    ENTRY = "entry"
    ATTENDANCE = "attendance"
    EXIT = "exit"


class MeetingKind(StrEnum):
    """A collective information meeting, or an individual appointment (K16.3)."""

    COLLECTIVE = "collective"
    INDIVIDUAL = "individual"


class MeetingResult(StrEnum):
    """A job seeker's result after the information meetings (K16.4)."""

    ENROLLED = "enrolled"
    NOT_ENROLLED = "not_enrolled"
    WAITING_LIST = "waiting_list"


class ExitKind(StrEnum):
    """A trainee leaves at the training's end (completion) or before it (abandonment, K16.7)."""

    COMPLETION = "completion"
    ABANDONMENT = "abandonment"


class ExitReason(StrEnum):
    """Why a trainee left (K16.7): the values of the contracts' ``ExitReason``."""

    TRAINING_COMPLETED = "training_completed"
    EMPLOYMENT = "employment"
    OTHER_TRAINING = "other_training"
    HEALTH = "health"
    PERSONAL_REASONS = "personal_reasons"
    EXCLUDED = "excluded"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Interruption:
    """The session stops from `starts_on` to `ends_on` inclusive, for `reason` (K16.1)."""

    kind: ClassVar[Kind] = Kind.INTERRUPTION
    starts_on: date
    ends_on: date
    reason: str

    @property
    def days(self) -> int:
        """How many calendar days it lasts, both ends included."""
        return (self.ends_on - self.starts_on).days + 1


@dataclass(frozen=True, slots=True)
class Correspondent:
    """The OF's contact person for the training (K16.2)."""

    kind: ClassVar[Kind] = Kind.CORRESPONDENT
    first_name: str
    last_name: str
    email: str
    phone: str


@dataclass(frozen=True, slots=True)
class Meeting:
    """A collective information meeting or an individual appointment (K16.3)."""

    meeting_id: str
    meeting_kind: MeetingKind
    starts_at: datetime
    place: str


@dataclass(frozen=True, slots=True)
class InformationMeetings:
    """The calendar of the session's information meetings and appointments (K16.3)."""

    kind: ClassVar[Kind] = Kind.INFORMATION_MEETINGS
    meetings: tuple[Meeting, ...]


@dataclass(frozen=True, slots=True)
class InformationMeetingResult:
    """A job seeker's result after the information meetings (K16.4)."""

    kind: ClassVar[Kind] = Kind.INFORMATION_MEETING_RESULT
    trainee_id: str
    result: MeetingResult


@dataclass(frozen=True, slots=True)
class Entry:
    """The job seeker effectively entered the training on `entered_on`, whoever funds it
    (K16.5); `funded_by` is free text, None when not said."""

    kind: ClassVar[Kind] = Kind.ENTRY
    trainee_id: str
    entered_on: date
    funded_by: str | None = None


@dataclass(frozen=True, slots=True)
class Attendance:
    """The job seeker's attendance in one month (K16.6): hours attended, and hours of absence
    justified or not (unjustified absences reduce the trainee's pay)."""

    kind: ClassVar[Kind] = Kind.ATTENDANCE
    trainee_id: str
    month: Month
    attended_hours: Decimal
    justified_absence_hours: Decimal
    unjustified_absence_hours: Decimal

    @property
    def total_hours(self) -> Decimal:
        """Attended and absent hours together: what the month must allow (K19)."""
        return self.attended_hours + self.justified_absence_hours + self.unjustified_absence_hours


@dataclass(frozen=True, slots=True)
class Exit:
    """The job seeker left the training on `exited_on` (K16.7): at its end (completion) or
    before (abandonment), for `reason`."""

    kind: ClassVar[Kind] = Kind.EXIT
    trainee_id: str
    exited_on: date
    exit_kind: ExitKind
    reason: ExitReason


TraineeDeclaration = InformationMeetingResult | Entry | Attendance | Exit
"""A declaration about one job seeker in a session, keyed by the trainee and the session."""

SessionDeclaration = Interruption | Correspondent | InformationMeetings
"""A declaration about a session as a whole, keyed by the session."""

Declaration = TraineeDeclaration | SessionDeclaration
"""Any of the seven kinds (K16)."""


def trainee_of(declaration: Declaration) -> str | None:
    """The France Travail identifier a declaration is about, None for a session declaration."""
    if isinstance(declaration, InformationMeetingResult | Entry | Attendance | Exit):
        return declaration.trainee_id
    return None
