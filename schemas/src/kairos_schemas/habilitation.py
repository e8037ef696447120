"""Event contracts of the habilitation service (COADHA): RGC, habilitations, reviews (K10 to K15).

habilitation publishes on `TOPIC`, keyed by the aggregate each event is about (a habilitation's
or an organisation's id). Its events are declared here as the issues need them.
"""

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from kairos_schemas.events import ContractModel, Event
from kairos_schemas.identity import Person

TOPIC = "kairos.habilitation.v1"


class SignedAuthorisation(ContractModel):
    """The written authorisation signed by the head of the organisation (K12)."""

    signed_by: str
    signed_on: date
    document_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class HabilitationRecorded(Event):
    """The RGC habilitated a person of the organisation (K11, K12): the identity service
    creates their personal account; the habilitation becomes active once it exists."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.habilitation-recorded.v1"
    topic: ClassVar[str] = TOPIC

    habilitation_id: str
    organisation_id: str
    role: Literal["head", "user"]
    person: Person
    function: str
    authorisation: SignedAuthorisation
    employee_attested: bool
    recorded_by: str
    recorded_at: datetime

    def partition_key(self) -> str:
        return self.habilitation_id


EndReason = Literal[
    "departure",
    "absence_over_3_months",
    "change_of_function",
    "breach_of_terms",
    "operator_demand",
    "annual_review",
]


class HabilitationEnded(Event):
    """A habilitation ended (K13): from now on every service refuses its holder for this
    organisation; the identity service disables the account and ends its sessions (K9)."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.habilitation-ended.v1"
    topic: ClassVar[str] = TOPIC

    habilitation_id: str
    organisation_id: str
    reason: EndReason
    ended_at: datetime
    ended_by: str | None = None

    def partition_key(self) -> str:
        return self.habilitation_id
