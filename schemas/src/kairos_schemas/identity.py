"""Event contracts of the identity service: adhesions, accounts, sessions (K1 to K9).

identity publishes on `TOPIC`, keyed by the aggregate each event is about: an organisation's id
for adhesion and organisation events, an account's id for account and session events (so a
session's end never overtakes its start). No event ever carries a password, a token or a hash.
"""

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from kairos_schemas.events import ContractModel, Event

TOPIC = "kairos.identity.v1"

Role = Literal["operator", "head", "rgc", "user"]
Zone = Literal[
    "metropolitan", "alsace-moselle", "guadeloupe", "martinique", "guyane", "la-reunion", "mayotte"
]
SessionEndReason = Literal[
    "logout",
    "expired",
    "account_lapsed",
    "organisation_suspended",
    "organisation_withdrawn",
    "access_expired",
    "password_changed",
    "password_reset",
    "habilitation_ended",
    "habilitation_suspended",
    "rgc_post_vacated",
    "account_compromised",
    "refresh_token_reused",
]


class Person(ContractModel):
    """A named person with a professional e-mail address."""

    first_name: str = Field(min_length=1)
    last_name: str = Field(min_length=1)
    email: str = Field(min_length=3)


class HeadOfOrganisation(Person):
    """The organisation's director (responsable de l'organisme) and their function."""

    function: str = Field(min_length=1)


class PostalAddress(ContractModel):
    """A postal address in France; the postal code gives the département and the zone."""

    street: str = Field(min_length=1)
    postal_code: str = Field(pattern=r"^\d{5}$")
    city: str = Field(min_length=1)


class _OrganisationEvent(Event):
    topic: ClassVar[str] = TOPIC

    organisation_id: str

    def partition_key(self) -> str:
        return self.organisation_id


class AdhesionRequested(_OrganisationEvent):
    """A training organisation asked to join (K1): identifiers checked, terms accepted."""

    event_type: ClassVar[str] = "fr.kairos.identity.adhesion-requested.v1"

    siret: str = Field(pattern=r"^\d{14}$")
    nda: str = Field(pattern=r"^\d{11}$")
    legal_name: str
    address: PostalAddress
    departement: str
    zone: Zone
    head: HeadOfOrganisation
    rgc: Person
    terms_version: str
    terms_accepted_on: date
    requested_at: datetime
    head_is_rgc: bool = False
    """The head is also the RGC (K1): `rgc` is the head; one account will hold both roles."""


class AdhesionValidated(_OrganisationEvent):
    """An operator validated the adhesion (K2): access opens for 3 years, the RGC account
    exists with provisional credentials (handed over by the operator, never in an event)."""

    event_type: ClassVar[str] = "fr.kairos.identity.adhesion-validated.v1"

    siret: str = Field(pattern=r"^\d{14}$")
    legal_name: str
    zone: Zone
    head: HeadOfOrganisation
    rgc: Person
    rgc_account_id: str
    validated_at: datetime
    validated_by: str
    access_expires_at: datetime
    head_is_rgc: bool = False
    """The head is also the RGC (K1): `rgc_account_id` is the head's account too."""


class AdhesionRejected(_OrganisationEvent):
    """An operator rejected the adhesion request (K1), for `reason` (told to the head who
    asked). The organisation never had access; its SIRET may apply again."""

    event_type: ClassVar[str] = "fr.kairos.identity.adhesion-rejected.v1"

    siret: str = Field(pattern=r"^\d{14}$")
    legal_name: str
    zone: Zone
    head: HeadOfOrganisation
    reason: str
    rejected_at: datetime
    rejected_by: str


class AdhesionRequestExpired(_OrganisationEvent):
    """The adhesion request waited its configured time (30 days by default) without a
    decision (K1): it is closed, the head who asked is told, and the SIRET may apply again."""

    event_type: ClassVar[str] = "fr.kairos.identity.adhesion-request-expired.v1"

    siret: str = Field(pattern=r"^\d{14}$")
    legal_name: str
    zone: Zone
    head: HeadOfOrganisation
    requested_at: datetime
    expired_at: datetime


class AdhesionExpiring(_OrganisationEvent):
    """The organisation's access ends in `days_before` days unless renewed (K2 notice)."""

    event_type: ClassVar[str] = "fr.kairos.identity.adhesion-expiring.v1"

    access_expires_at: datetime
    days_before: int = Field(ge=0)


class AdhesionExpired(_OrganisationEvent):
    """The 3-year access period ended (K2): the organisation's access stops until renewed."""

    event_type: ClassVar[str] = "fr.kairos.identity.adhesion-expired.v1"

    expired_at: datetime


class AdhesionRenewed(_OrganisationEvent):
    """An operator renewed the organisation's access for a new period (K2)."""

    event_type: ClassVar[str] = "fr.kairos.identity.adhesion-renewed.v1"

    renewed_at: datetime
    renewed_by: str
    access_expires_at: datetime


class OrganisationSuspended(_OrganisationEvent):
    """An operator suspended the organisation's access for non-compliance (K3, §8): all its
    sessions, accounts and habilitations stop working at once."""

    event_type: ClassVar[str] = "fr.kairos.identity.organisation-suspended.v1"

    reason: str
    suspended_at: datetime
    suspended_by: str


class OrganisationWithdrawn(_OrganisationEvent):
    """An operator withdrew the organisation's access (K3, §8): final, unlike a suspension."""

    event_type: ClassVar[str] = "fr.kairos.identity.organisation-withdrawn.v1"

    reason: str
    withdrawn_at: datetime
    withdrawn_by: str


class OrganisationReinstated(_OrganisationEvent):
    """An operator lifted a suspension: the organisation's access works again (K3)."""

    event_type: ClassVar[str] = "fr.kairos.identity.organisation-reinstated.v1"

    reinstated_at: datetime
    reinstated_by: str


class _AccountEvent(Event):
    topic: ClassVar[str] = TOPIC

    account_id: str
    organisation_id: str | None = None

    def partition_key(self) -> str:
        return self.account_id


class AccountCreated(_AccountEvent):
    """A personal account exists with provisional credentials valid until `provisional_until`
    (K6, K11): 21 days for an RGC, 7 for other accounts, to the end of the last day in the OF's
    zone. The credentials themselves are shown once to the operator or RGC who hands them over,
    never sent in an event. `provisional_until` is null when they are issued later (a
    habilitated person's, when the RGC retrieves them): their days run from then, and the
    reminder before they lapse says until when."""

    event_type: ClassVar[str] = "fr.kairos.identity.account-created.v1"

    role: Role
    login_id: str
    person: Person
    provisional_until: datetime | None = None
    habilitation_id: str | None = None
    rgc_designation_id: str | None = None


class ProvisionalAccessReminder(_AccountEvent):
    """The account's provisional credentials lapse in `days_left` days unless replaced (K6)."""

    event_type: ClassVar[str] = "fr.kairos.identity.provisional-access-reminder.v1"

    role: Role
    provisional_until: datetime
    days_left: int = Field(ge=0)


class AccountActivated(_AccountEvent):
    """The holder replaced the provisional password: the account is active (K6, K7)."""

    event_type: ClassVar[str] = "fr.kairos.identity.account-activated.v1"

    role: Role
    activated_at: datetime


class AccountLapsed(_AccountEvent):
    """Provisional credentials of a user or head account were not replaced in time (K6)."""

    event_type: ClassVar[str] = "fr.kairos.identity.account-lapsed.v1"

    role: Role
    lapsed_at: datetime


class RgcAccountLapsed(_AccountEvent):
    """The RGC never replaced the provisional password within 21 days (K6): the account lapses
    and the RGC post of the organisation is vacant (K10)."""

    event_type: ClassVar[str] = "fr.kairos.identity.rgc-account-lapsed.v1"

    lapsed_at: datetime


class PasswordResetByOperator(_AccountEvent):
    """An operator reset the account's password (K7): new provisional credentials, to be
    replaced at the next login; the account's sessions ended."""

    event_type: ClassVar[str] = "fr.kairos.identity.password-reset-by-operator.v1"

    role: Role
    reset_at: datetime
    reset_by: str
    provisional_until: datetime


class AccountFlaggedCompromised(_AccountEvent):
    """An operator flagged the account as compromised (K7, evidence of compromise): its
    sessions ended (``SessionEnded``, reason ``account_compromised``) and its next login may
    only set a new password."""

    event_type: ClassVar[str] = "fr.kairos.identity.account-flagged-compromised.v1"

    role: Role
    reason: str
    flagged_at: datetime
    flagged_by: str


class ProvisionalCredentialsReissued(_AccountEvent):
    """A lapsed account (K6) whose habilitation is still active got new provisional credentials
    from its organisation's RGC (or head while the post is vacant): it is no longer lapsed, but
    provisional again until `provisional_until` (7 days, to the end of the last day in the OF's
    zone). Services that refused the lapsed account accept it again (the password itself is
    shown once to `reissued_by`, never sent)."""

    event_type: ClassVar[str] = "fr.kairos.identity.provisional-credentials-reissued.v1"

    role: Role
    reissued_at: datetime
    reissued_by: str
    provisional_until: datetime


class _SessionEvent(_AccountEvent):
    session_id: str


class SessionStarted(_SessionEvent):
    """The holder logged in (K9); other services may track the last login (K15)."""

    event_type: ClassVar[str] = "fr.kairos.identity.session-started.v1"

    role: Role
    started_at: datetime


class SessionEnded(_SessionEvent):
    """The session is over (K9): every service refuses its tokens from now on, before they
    expire. Its data was deleted from the identity service."""

    event_type: ClassVar[str] = "fr.kairos.identity.session-ended.v1"

    reason: SessionEndReason
    ended_at: datetime
