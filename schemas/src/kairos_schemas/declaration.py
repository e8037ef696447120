"""Event contracts of the declaration service: the seven declaration kinds (K16 to K22).

declaration publishes on `TOPIC`, the integrators' topic. Declarations about a job seeker in a
session are keyed by job seeker and session (`<trainee>/<action>/<session>`), so that an exit
never overtakes its entry (K21); declarations about a session as a whole (interruption,
correspondent, information meetings) by the session (`session/<action>/<session>`).

Every declaration has a stable `declaration_id` and a `version`: a correction is the same event
type with the next version (the whole declaration again, `correction_reason` set), a
cancellation is `DeclarationCancelled` with the next version; nothing is ever overwritten (K20).
`late` says whether it was declared after `due_by` (K18), judged on when the declaration was
first declared (`first_declared_at`): a correction keeps the lateness of the first version,
and its own time is its `declared_at`. `due_by` is never a day the OF's zone is closed (a
weekend, a public holiday of the zone, a configured closure): such a due day moves to the
zone's next open day.
"""

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from kairos_schemas.events import ContractModel, Event

TOPIC = "kairos.declaration.v1"

FranceTravailId = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{7}[0-9A-Z]$",
        description="the job seeker's France Travail identifier: 7 digits and a letter or digit",
    ),
]
CarifOrefNumber = Annotated[
    str,
    Field(
        pattern=r"^[0-9A-Za-z][0-9A-Za-z_-]{0,39}$",
        description="a Carif-Oref number, e.g. 14_AF_0000012345 (action), 14_SE_0000123456",
    ),
]
Hours = Annotated[float, Field(ge=0, le=744, description="hours, in quarters of an hour")]

DeclarationKind = Literal[
    "interruption",
    "correspondent",
    "information_meetings",
    "information_meeting_result",
    "entry",
    "attendance",
    "exit",
]


class TrainingSession(ContractModel):
    """A training session and its action, by their Carif-Oref numbers (K16)."""

    action_number: CarifOrefNumber
    session_number: CarifOrefNumber


class _Declaration(Event):
    topic: ClassVar[str] = TOPIC
    kind: ClassVar[str]

    declaration_id: str
    version: int = Field(ge=1)
    organisation_id: str
    session: TrainingSession
    declared_by: str
    declared_at: datetime
    due_by: date
    late: bool = Field(
        description="declared after `due_by`, in the OF's zone: judged on `first_declared_at`, so"
        " a correction keeps the lateness of the first version (K18)"
    )
    correction_reason: str | None = None
    first_declared_at: datetime | None = Field(
        default=None,
        description="when the declaration's first version was declared, what `late` is judged"
        " on; this version's own time is `declared_at` (absent from events published before"
        " it was added)",
    )

    def partition_key(self) -> str:
        return f"session/{self.session.action_number}/{self.session.session_number}"


class _TraineeDeclaration(_Declaration):
    trainee_id: FranceTravailId

    def partition_key(self) -> str:
        return f"{self.trainee_id}/{self.session.action_number}/{self.session.session_number}"


class InterruptionDeclared(_Declaration):
    """The session is interrupted for more than 15 days (K16.1), from `starts_on` to `ends_on`
    inclusive."""

    event_type: ClassVar[str] = "fr.kairos.declaration.interruption-declared.v1"
    kind: ClassVar[str] = "interruption"

    starts_on: date
    ends_on: date
    reason: str = Field(min_length=1, max_length=500)


class Correspondent(ContractModel):
    """The OF's contact person for a training (K16.2)."""

    first_name: str = Field(min_length=1)
    last_name: str = Field(min_length=1)
    email: str = Field(min_length=3)
    phone: str = Field(pattern=r"^\+?[0-9 .]{6,20}$")


class CorrespondentDeclared(_Declaration):
    """The training correspondent's contact details for the session (K16.2)."""

    event_type: ClassVar[str] = "fr.kairos.declaration.correspondent-declared.v1"
    kind: ClassVar[str] = "correspondent"

    correspondent: Correspondent


class InformationMeeting(ContractModel):
    """A collective information meeting or an individual appointment before the training."""

    meeting_id: str = Field(min_length=1, max_length=40)
    meeting_kind: Literal["collective", "individual"]
    starts_at: datetime
    place: str = Field(min_length=1, max_length=200)


class InformationMeetingsDeclared(_Declaration):
    """The calendar of the session's information meetings and appointments (K16.3)."""

    event_type: ClassVar[str] = "fr.kairos.declaration.information-meetings-declared.v1"
    kind: ClassVar[str] = "information_meetings"

    meetings: list[InformationMeeting] = Field(min_length=1)


class InformationMeetingResultDeclared(_TraineeDeclaration):
    """A job seeker's result after the information meetings (K16.4)."""

    event_type: ClassVar[str] = "fr.kairos.declaration.information-meeting-result-declared.v1"
    kind: ClassVar[str] = "information_meeting_result"

    result: Literal["enrolled", "not_enrolled", "waiting_list"]


class EntryDeclared(_TraineeDeclaration):
    """The job seeker effectively entered the training on `entered_on`, whoever funds it
    (K16.5)."""

    event_type: ClassVar[str] = "fr.kairos.declaration.entry-declared.v1"
    kind: ClassVar[str] = "entry"

    entered_on: date
    funded_by: str | None = Field(default=None, max_length=100)


class AttendanceDeclared(_TraineeDeclaration):
    """The job seeker's attendance in one month (K16.6): hours attended and hours of absence,
    justified or not (unjustified absences reduce the trainee's pay)."""

    event_type: ClassVar[str] = "fr.kairos.declaration.attendance-declared.v1"
    kind: ClassVar[str] = "attendance"

    month: str = Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    attended_hours: Hours
    justified_absence_hours: Hours
    unjustified_absence_hours: Hours


ExitReason = Literal[
    "training_completed",
    "employment",
    "other_training",
    "health",
    "personal_reasons",
    "excluded",
    "other",
]


class ExitDeclared(_TraineeDeclaration):
    """The job seeker left the training on `exited_on` (K16.7): at its end (`completion`) or
    before (`abandonment`), for `reason`."""

    event_type: ClassVar[str] = "fr.kairos.declaration.exit-declared.v1"
    kind: ClassVar[str] = "exit"

    exited_on: date
    exit_kind: Literal["completion", "abandonment"]
    reason: ExitReason


class DeclarationCancelled(Event):
    """A declaration is cancelled by a new version (K20): integrators drop what it said."""

    event_type: ClassVar[str] = "fr.kairos.declaration.declaration-cancelled.v1"
    topic: ClassVar[str] = TOPIC

    declaration_id: str
    version: int = Field(ge=2)
    kind: DeclarationKind
    organisation_id: str
    session: TrainingSession
    trainee_id: FranceTravailId | None = None
    cancelled_by: str
    cancelled_at: datetime
    reason: str = Field(min_length=1, max_length=500)

    def partition_key(self) -> str:
        owner = self.trainee_id or "session"
        return f"{owner}/{self.session.action_number}/{self.session.session_number}"


DECLARATIONS: tuple[type[_Declaration], ...] = (
    InterruptionDeclared,
    CorrespondentDeclared,
    InformationMeetingsDeclared,
    InformationMeetingResultDeclared,
    EntryDeclared,
    AttendanceDeclared,
    ExitDeclared,
)
"""One event type per declaration kind (K16), in the order of the decree's list."""
