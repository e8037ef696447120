"""Event contracts of the habilitation service (COADHA): RGC, habilitations, reviews (K10 to K15).

habilitation publishes on `TOPIC`, keyed by the aggregate each event is about: a habilitation's
id for a habilitation's life cycle (so its end never overtakes its start), an organisation's id
for its RGC post, review campaigns and operator demands.
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


class _HabilitationEvent(Event):
    topic: ClassVar[str] = TOPIC

    habilitation_id: str
    organisation_id: str

    def partition_key(self) -> str:
        return self.habilitation_id


class HabilitationRecorded(_HabilitationEvent):
    """The RGC habilitated a person of the organisation (K11, K12): the identity service
    creates their personal account; the habilitation becomes active once it exists."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.habilitation-recorded.v1"

    role: Literal["head", "user"]
    person: Person
    function: str
    authorisation: SignedAuthorisation
    employee_attested: bool
    recorded_by: str
    recorded_at: datetime


EndReason = Literal[
    "departure",
    "absence_over_3_months",
    "change_of_function",
    "breach_of_terms",
    "operator_demand",
    "annual_review",
]


class HabilitationEnded(_HabilitationEvent):
    """A habilitation ended (K13): from now on every service refuses its holder for this
    organisation; the identity service disables the account and ends its sessions (K9)."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.habilitation-ended.v1"

    reason: EndReason
    ended_at: datetime
    ended_by: str | None = None
    account_id: str | None = None


class HabilitationActivated(_HabilitationEvent):
    """The habilitated person's account exists: the habilitation is active and `account_id`
    may act for the organisation (K11, K17)."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.habilitation-activated.v1"

    account_id: str
    role: Literal["head", "user"]
    activated_at: datetime


SuspensionReason = Literal["annual_review_overdue"]


class HabilitationSuspended(_HabilitationEvent):
    """The habilitation stopped working without ending (K14: left undecided at the annual
    review's deadline, with "suspend" as the configured default): its holder is refused
    everywhere until the RGC confirms it."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.habilitation-suspended.v1"

    account_id: str | None = None
    reason: SuspensionReason
    suspended_at: datetime


class HabilitationReinstated(_HabilitationEvent):
    """The RGC confirmed a suspended habilitation: it works again (K14)."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.habilitation-reinstated.v1"

    account_id: str | None = None
    reinstated_at: datetime
    reinstated_by: str


class HabilitationFlagged(_HabilitationEvent):
    """The habilitation is brought to the operators' attention (K14 default "flag", K15):
    listed to them (GET /v1/habilitation-flags) until a demand answers it."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.habilitation-flagged.v1"

    reason: Literal["annual_review_overdue"]
    flagged_at: datetime


class _OrganisationEvent(Event):
    topic: ClassVar[str] = TOPIC

    organisation_id: str

    def partition_key(self) -> str:
        return self.organisation_id


DesignatedRole = Literal["rgc", "head"]


class RgcDesignationRequested(_OrganisationEvent):
    """The organisation named a new RGC (CGU §4.1: on the same terms as the first), or — when
    it has neither an RGC nor a head account — asked for its head's account (K10). An operator
    validates or rejects it. `requested_by` is the head's account, or None for a request made
    without an account, tied to the SIRET and checked against the adhesion's head."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.rgc-designation-requested.v1"

    rgc_designation_id: str
    account_role: DesignatedRole = "rgc"
    person: Person
    requested_by: str | None = None
    requested_at: datetime


class RgcDesignationRejected(_OrganisationEvent):
    """An operator rejected a designation request, for `reason`; the head is told."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.rgc-designation-rejected.v1"

    rgc_designation_id: str
    account_role: DesignatedRole = "rgc"
    person: Person
    reason: str
    rejected_by: str
    rejected_at: datetime


class RgcDesignated(_OrganisationEvent):
    """A designation was validated by an operator (`validated_by`), on the same terms as the
    first RGC (CGU §4.1): the identity service opens the account (`account_role`: the new
    RGC's, 21 days to log in, K6; or the head's when the organisation had neither) with
    `rgc_designation_id`, whose provisional credentials that operator retrieves once to hand
    them over; a new RGC takes office when the account exists. A designation always follows a
    vacancy (an RGC in office is first relieved: `RgcPostVacated`). `designated_by` is the
    head's account, or the operator's for a request made without an account."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.rgc-designated.v1"

    rgc_designation_id: str
    person: Person
    designated_by: str
    designated_at: datetime
    account_role: DesignatedRole = "rgc"
    validated_by: str | None = None
    validated_at: datetime | None = None


class RgcTookOffice(_OrganisationEvent):
    """`rgc_account_id` is now the organisation's only active RGC (K10): the account the
    adhesion created, or the one created for a designation (`rgc_designation_id`)."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.rgc-took-office.v1"

    rgc_account_id: str
    rgc_designation_id: str | None = None
    since: datetime


VacancyReason = Literal[
    "departure",
    "absence_over_3_months",
    "change_of_function",
    "provisional_account_lapsed",
    "operator_demand",
]


class RgcPostVacated(_OrganisationEvent):
    """The RGC post is vacant (K10): the former RGC holds no RGC right; the head holds them
    (`head_account_id`, None while the head has no account yet) and must be told so."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.rgc-post-vacated.v1"

    reason: VacancyReason
    former_rgc_account_id: str
    head_account_id: str | None = None
    vacated_at: datetime
    vacated_by: str | None = None


class ReviewCampaignOpened(_OrganisationEvent):
    """The yearly review of the organisation's habilitations opened (K14): the RGC confirms or
    ends each listed habilitation before `deadline`."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.review-campaign-opened.v1"

    campaign_id: str
    year: int
    opens_at: datetime
    deadline: datetime
    habilitation_ids: list[str]


class ReviewReminder(_OrganisationEvent):
    """The review's deadline is `days_before` days away and decisions are still missing."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.review-reminder.v1"

    campaign_id: str
    deadline: datetime
    days_before: int = Field(ge=0)
    undecided: int = Field(ge=1)


class HabilitationReviewed(_OrganisationEvent):
    """The RGC's decision on one habilitation during the review (the latest one counts)."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.habilitation-reviewed.v1"

    campaign_id: str
    habilitation_id: str
    decision: Literal["confirmed", "ended"]
    decided_by: str
    decided_at: datetime


class ReviewCampaignClosed(_OrganisationEvent):
    """The review's deadline passed (K14); `undecided` got the configured `default_applied`."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.review-campaign-closed.v1"

    campaign_id: str
    closed_at: datetime
    default_applied: Literal["flag_to_operator", "suspend"]
    undecided: list[str]


DemandKind = Literal["end_habilitations", "revoke_rgc"]


class OperatorDemandIssued(_OrganisationEvent):
    """An operator demands that the organisation end habilitations its usage does not justify
    (K15) or revoke its RGC (K10), before `deadline`."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.operator-demand-issued.v1"

    demand_id: str
    kind: DemandKind
    habilitation_ids: list[str] = Field(default_factory=list)
    rgc_account_id: str | None = None
    reason: str
    issued_by: str
    issued_at: datetime
    deadline: datetime
    flag_ids: list[str] = Field(default_factory=list)
    """The annual review's flags (HabilitationFlagged) this demand answers, if any (K14)."""


class DemandOutcome(ContractModel):
    """What became of one item of a demand."""

    habilitation_id: str | None = None
    outcome: Literal["ended", "justified", "enforced", "moot"]
    justification: str | None = None


class OperatorDemandSettled(_OrganisationEvent):
    """Every item of the demand is settled: ended or justified by the organisation, or
    enforced at the deadline (the habilitation ended, the RGC post vacated)."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.operator-demand-settled.v1"

    demand_id: str
    kind: DemandKind
    settled_at: datetime
    outcomes: list[DemandOutcome]


class MessageToOperatorsSent(_OrganisationEvent):
    """A message to France Travail written without an account (« Écrire à France Travail »),
    by the head the adhesion declared — checked, as for a designation request without an
    account, against the SIRET and that head. For an organisation none of whose people can log
    in (suspended, withdrawn, credentials never received); the notification service forwards
    it to the operators' mailbox. A message that fails the check publishes nothing."""

    event_type: ClassVar[str] = "fr.kairos.habilitation.message-to-operators-sent.v1"

    message_id: str
    sender: Person
    subject: str = Field(max_length=200)
    text: str = Field(max_length=5000)
    sent_at: datetime
