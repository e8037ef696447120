"""The e-mails the platform sends (K23) and the variables each one needs to be written.

One :class:`NotificationKind` per e-mail; its French templates are
``templates/<kind>.subject.txt``, ``<kind>.txt`` and ``<kind>.html``. :data:`REQUIRED_VARIABLES`
says which variables the templates of each kind use, exactly (a unit test parses the templates
and compares, so the mapping cannot drift from them); :data:`VARIABLES` says what each variable
is. A renderer refuses to write an e-mail whose variables are missing
(:class:`MissingVariableError`) rather than send a half-written one; variables it does not need
are ignored.

No variable is ever a password, a token or any other credential (K5, K6, K11): an e-mail says
that an account exists and by when to log in, and where the provisional credentials come from
(France Travail for an RGC, the RGC for anyone else), never what they are. Not even the login id
is sent: it travels with the password.

Dates and times are shown in the organisation's zone (``zone``), with the zone's label ("heure de
la Guadeloupe"), so every instant variable of a kind goes with ``zone``.

Pure: no I/O, no template engine (that is :mod:`kairos_notification.adapters.templates`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class NotificationKind(StrEnum):
    """An e-mail of K23, named after what it tells; the comment says what triggers it and who
    receives it (the service layer decides; this is the intent the wording assumes)."""

    # AdhesionValidated: the head and the RGC named in the adhesion (K2).
    ADHESION_VALIDATED = "adhesion_validated"
    # AdhesionExpiring: the head and the RGC, before the 3 years end (K2).
    ADHESION_EXPIRING = "adhesion_expiring"
    # AdhesionExpired: the head and the RGC; the organisation's access stopped (K2).
    ADHESION_EXPIRED = "adhesion_expired"
    # Added: AdhesionRenewed, the head and the RGC; the counterpart of the two above (K2).
    ADHESION_RENEWED = "adhesion_renewed"
    # AccountCreated with role "rgc": the RGC; log in within 21 days (K6), no credential.
    RGC_ACCOUNT_CREATED = "rgc_account_created"
    # Added: AccountCreated with role "head" for an RGC designation (K10): the head, whose
    # account France Travail opened when the organisation had neither an RGC nor a head
    # account; credentials from France Travail, the head holds the RGC's rights.
    HEAD_ACCOUNT_OPENED = "head_account_opened"
    # ProvisionalAccessReminder: the holder (RGC, head or user), days before the lapse (K6).
    PROVISIONAL_ACCESS_REMINDER = "provisional_access_reminder"
    # AccountCreated with role "head" or "user": the holder; 7 days, credentials from the RGC.
    ACCOUNT_CREATED = "account_created"
    # Added: PasswordResetByOperator, the holder (K7): new provisional credentials handed over
    # separately; also tells the holder of a change they may not have asked for. Operators'
    # accounts have no organisation, so this one does not name it.
    PASSWORD_RESET = "password_reset"  # noqa: S105 - the e-mail's name, not a password
    # AccountLapsed: the holder (head or user) whose provisional credentials lapsed (K6).
    ACCOUNT_LAPSED = "account_lapsed"
    # RgcAccountLapsed: the former RGC; the RGC post is vacant (K6, K10).
    RGC_ACCOUNT_LAPSED = "rgc_account_lapsed"
    # HabilitationRecorded/HabilitationActivated: the habilitated person (K11, K12).
    HABILITATION_GRANTED = "habilitation_granted"
    # HabilitationEnded: its former holder (K13).
    HABILITATION_ENDED = "habilitation_ended"
    # Added: HabilitationSuspended, its holder (K14 default "suspend"): ask the RGC to confirm.
    HABILITATION_SUSPENDED = "habilitation_suspended"
    # RgcPostVacated: the head, who now holds the RGC's rights and designates a new RGC (K10).
    RGC_POST_VACANT_HEAD_IN_CHARGE = "rgc_post_vacant_head_in_charge"
    # Added: RgcDesignationRequested made without an account, the head the adhesion declared:
    # a request was made in their name; to be reported if it was not theirs (K10).
    RGC_DESIGNATION_REQUESTED = "rgc_designation_requested"
    # Added: RgcDesignationRejected, the head: an operator did not validate the designation;
    # how to request again (K10).
    RGC_DESIGNATION_REJECTED = "rgc_designation_rejected"
    # Added: RgcTookOffice, the head: who the RGC is now (K10), the end of a vacancy.
    RGC_TOOK_OFFICE = "rgc_took_office"
    # ReviewCampaignOpened: the RGC (K14).
    REVIEW_OPENED = "review_opened"
    # ReviewReminder: the RGC, decisions still missing (K14).
    REVIEW_REMINDER = "review_reminder"
    # ReviewCampaignClosed with undecided habilitations: the RGC and the head (K14).
    REVIEW_OVERDUE = "review_overdue"
    # OperatorDemandIssued: the RGC (end habilitations, K15) or the head (revoke the RGC, K10).
    OPERATOR_DEMAND = "operator_demand"
    # OrganisationSuspended: the head and the RGC (K3).
    ORGANISATION_SUSPENDED = "organisation_suspended"
    # Added: OrganisationReinstated, the head and the RGC; the counterpart of a suspension (K3).
    ORGANISATION_REINSTATED = "organisation_reinstated"
    # OrganisationWithdrawn: the head and the RGC; final (K3).
    ORGANISATION_WITHDRAWN = "organisation_withdrawn"
    # A declaration accepted after its deadline (a declaration event with late=true): the RGC.
    DECLARATION_LATE = "declaration_late"
    # Added (K23 "declaration deadline reminders"; no event yet): the RGC, before the monthly
    # attendance statements are due (K18).
    ATTENDANCE_DEADLINE_REMINDER = "attendance_deadline_reminder"
    # An operator's announcement of a maintenance closure (K4, §3): every OF's RGC and head.
    MAINTENANCE_ANNOUNCEMENT = "maintenance_announcement"
    # Added (K23 "changes"): an operator's announcement of a change, every OF's RGC and head.
    SERVICE_ANNOUNCEMENT = "service_announcement"
    # An RGC's incident report (§4.1.3), forwarded to the operators' mailbox.
    RGC_INCIDENT_REPORT = "rgc_incident_report"
    # AdhesionRejected: the head named in the request; the reason, and that the SIRET may
    # apply again (K1).
    ADHESION_REJECTED = "adhesion_rejected"
    # AdhesionRequestExpired: the head named in the request; it may apply again (K1).
    ADHESION_REQUEST_EXPIRED = "adhesion_request_expired"
    # ReviewCampaignClosed with "flag_to_operator" and undecided habilitations: the operators'
    # mailbox, once per campaign, listing them; an operator answers with a demand (K14, K15).
    REVIEW_FLAGS_TO_OPERATORS = "review_flags_to_operators"
    # MessageToOperatorsSent: « Écrire à France Travail » without an account, by the head the
    # adhesion declared (checked by the habilitation service), to the operators' mailbox.
    MESSAGE_TO_OPERATORS = "message_to_operators"
    # AccountFlaggedCompromised: the holder (K7): sessions closed, a new password at the next
    # login. Like PASSWORD_RESET, it does not name an organisation (operators have none).
    ACCOUNT_COMPROMISED = "account_compromised"


VARIABLES: Mapping[str, str] = MappingProxyType(
    {
        "recipient_name": "str | None: the recipient's name (None: 'Madame, Monsieur,')",
        "organisation_name": "str: the organisation's legal name",
        "zone": "kairos_shared.zones.Zone (or its value): the organisation's zone, for every time",
        "siret": "str: the organisation's SIRET (14 digits)",
        "validated_at": "datetime (aware): when the adhesion was validated",
        "access_expires_at": "datetime (aware): when the organisation's access ends",
        "expired_at": "datetime (aware): when the organisation's access ended",
        "renewed_at": "datetime (aware): when the adhesion was renewed",
        "days_left": "int >= 0: days before the deadline",
        "rgc_name": "str: the RGC's name",
        "provisional_until": "datetime (aware): the provisional credentials' deadline",
        "role": "str: the account's role, 'rgc', 'head' or 'user'",
        "reset_at": "datetime (aware): when an operator reset the password",
        "lapsed_at": "datetime (aware): when the account lapsed",
        "function": "str: the habilitated person's function in the organisation",
        "authorisation_signed_by": "str: who signed the written authorisation (K12)",
        "authorisation_signed_on": "date: when the written authorisation was signed",
        "granted_at": "datetime (aware): when the habilitation became active",
        "reason": "str: an operator's own words: why a suspension, withdrawal, demand or closure",
        "end_reason": "str: the habilitation's end reason code (HabilitationEnded.reason)",
        "vacancy_reason": "str: why the RGC post is vacant, a code (RgcPostVacated.reason)",
        "ended_at": "datetime (aware): when the habilitation ended",
        "suspended_at": "datetime (aware): when the habilitation or organisation was suspended",
        "vacated_at": "datetime (aware): when the RGC post became vacant",
        "head_has_account": "bool: whether the head has a Kairos account yet",
        "took_office_at": "datetime (aware): since when the RGC is in office",
        "rejected_at": "datetime (aware): when an operator rejected the designation or the "
        "adhesion request",
        "requested_at": "datetime (aware): when the designation or the adhesion was requested",
        "year": "int: the review campaign's year",
        "deadline_at": "datetime (aware): the deadline of a review or a demand",
        "habilitation_count": "int: how many habilitations the review or the demand concerns",
        "undecided_count": "int: how many habilitations are left undecided",
        "closed_at": "datetime (aware): when the review campaign closed",
        "default_applied": "str: 'flag_to_operator' or 'suspend' (K14)",
        "demand_kind": "str: 'end_habilitations' or 'revoke_rgc'",
        "reinstated_at": "datetime (aware): when the organisation's suspension was lifted",
        "withdrawn_at": "datetime (aware): when the organisation's access was withdrawn",
        "declaration_kind": "str: the declaration's kind (K16), e.g. 'entry'",
        "action_number": "str: the session's Carif-Oref action number",
        "session_number": "str: the session's Carif-Oref session number",
        "due_on": "date: the last day allowed for the declaration",
        "declared_at": "datetime (aware): when the declaration was accepted",
        "month": "str: the attendance month, 'YYYY-MM'",
        "starts_at": "datetime (aware): when the maintenance closure starts",
        "ends_at": "datetime (aware): when the maintenance closure ends",
        "title": "str: the announcement's title (one line)",
        "message": "str: the announcement's text, in the operator's words (line breaks kept)",
        "effective_at": "datetime (aware) | None: when the announced change takes effect",
        "reporter_name": "str: the RGC who reported the incident",
        "reporter_email": "str: the RGC's professional e-mail address, to answer them",
        "reported_at": "datetime (aware): when the RGC reported the incident",
        "summary": "str: the incident report's title (one line)",
        "description": "str: the incident report's text, in the RGC's words",
        "organisation_id": "str: the organisation's id, for the operators' tools",
        "sender_name": "str: the head who wrote to France Travail without an account",
        "sender_email": "str: the head's e-mail address as the adhesion declared it",
        "sent_at": "datetime (aware): when the head wrote to France Travail",
        "subject": "str: the message's subject (one line), in the head's words",
        "text": "str: the message's text, in the head's words",
        "flagged_at": "datetime (aware): when an operator flagged the account as compromised",
        "flagged_habilitations": "list of {name, function, habilitation_id}: the habilitations "
        "the review flagged to the operators",
    }
)
"""Every template variable and what it holds (the type the templates and filters expect)."""

_PERSON = ("recipient_name", "organisation_name", "zone")


def _needs(*names: str) -> frozenset[str]:
    return frozenset(names)


_K = NotificationKind
REQUIRED_VARIABLES: Mapping[NotificationKind, frozenset[str]] = MappingProxyType(
    {
        _K.ADHESION_VALIDATED: _needs(
            *_PERSON, "siret", "validated_at", "access_expires_at", "rgc_name"
        ),
        _K.ADHESION_EXPIRING: _needs(*_PERSON, "access_expires_at", "days_left"),
        _K.ADHESION_EXPIRED: _needs(*_PERSON, "expired_at"),
        _K.ADHESION_RENEWED: _needs(*_PERSON, "renewed_at", "access_expires_at"),
        _K.RGC_ACCOUNT_CREATED: _needs(*_PERSON, "provisional_until"),
        _K.PROVISIONAL_ACCESS_REMINDER: _needs(*_PERSON, "role", "provisional_until", "days_left"),
        _K.ACCOUNT_CREATED: _needs(*_PERSON, "provisional_until"),
        _K.PASSWORD_RESET: _needs("recipient_name", "zone", "reset_at", "provisional_until"),
        _K.ACCOUNT_LAPSED: _needs(*_PERSON, "lapsed_at"),
        _K.RGC_ACCOUNT_LAPSED: _needs(*_PERSON, "lapsed_at"),
        _K.HABILITATION_GRANTED: _needs(
            *_PERSON, "function", "authorisation_signed_by", "authorisation_signed_on", "granted_at"
        ),
        _K.HABILITATION_ENDED: _needs(*_PERSON, "end_reason", "ended_at"),
        _K.HABILITATION_SUSPENDED: _needs(*_PERSON, "suspended_at"),
        _K.RGC_POST_VACANT_HEAD_IN_CHARGE: _needs(
            *_PERSON, "vacancy_reason", "vacated_at", "head_has_account"
        ),
        _K.RGC_TOOK_OFFICE: _needs(*_PERSON, "rgc_name", "took_office_at"),
        _K.RGC_DESIGNATION_REQUESTED: _needs(*_PERSON, "rgc_name", "role", "requested_at"),
        _K.RGC_DESIGNATION_REJECTED: _needs(*_PERSON, "rgc_name", "role", "reason", "rejected_at"),
        _K.HEAD_ACCOUNT_OPENED: _needs(*_PERSON, "provisional_until"),
        _K.REVIEW_OPENED: _needs(*_PERSON, "year", "deadline_at", "habilitation_count"),
        _K.REVIEW_REMINDER: _needs(*_PERSON, "deadline_at", "days_left", "undecided_count"),
        _K.REVIEW_OVERDUE: _needs(*_PERSON, "closed_at", "default_applied", "undecided_count"),
        _K.OPERATOR_DEMAND: _needs(
            *_PERSON, "demand_kind", "reason", "habilitation_count", "deadline_at"
        ),
        _K.ORGANISATION_SUSPENDED: _needs(*_PERSON, "reason", "suspended_at"),
        _K.ORGANISATION_REINSTATED: _needs(*_PERSON, "reinstated_at"),
        _K.ORGANISATION_WITHDRAWN: _needs(*_PERSON, "reason", "withdrawn_at"),
        _K.DECLARATION_LATE: _needs(
            *_PERSON, "declaration_kind", "action_number", "session_number", "due_on", "declared_at"
        ),
        _K.ATTENDANCE_DEADLINE_REMINDER: _needs(
            "recipient_name", "organisation_name", "month", "due_on"
        ),
        _K.MAINTENANCE_ANNOUNCEMENT: _needs(*_PERSON, "starts_at", "ends_at", "reason"),
        _K.SERVICE_ANNOUNCEMENT: _needs(*_PERSON, "title", "message", "effective_at"),
        _K.RGC_INCIDENT_REPORT: _needs(
            "organisation_name",
            "zone",
            "siret",
            "reporter_name",
            "reporter_email",
            "reported_at",
            "summary",
            "description",
        ),
        _K.ADHESION_REJECTED: _needs(*_PERSON, "siret", "reason", "rejected_at"),
        _K.ADHESION_REQUEST_EXPIRED: _needs(*_PERSON, "siret", "requested_at", "expired_at"),
        _K.ACCOUNT_COMPROMISED: _needs("recipient_name", "zone", "flagged_at"),
        _K.MESSAGE_TO_OPERATORS: _needs(
            "organisation_name",
            "zone",
            "siret",
            "sender_name",
            "sender_email",
            "sent_at",
            "subject",
            "text",
        ),
        _K.REVIEW_FLAGS_TO_OPERATORS: _needs(
            "organisation_name",
            "zone",
            "siret",
            "organisation_id",
            "closed_at",
            "flagged_habilitations",
        ),
    }
)
"""The variables the templates of each kind use: all must be given (some may be None, see
:data:`VARIABLES`)."""

NULLABLE_VARIABLES = frozenset({"recipient_name", "effective_at", "provisional_until"})
"""The variables whose value may be None (the templates then leave them out)."""


@dataclass(frozen=True)
class RenderedEmail:
    """An e-mail written in French: a one-line subject, a plain text body and an HTML body."""

    subject: str
    text: str
    html: str


class MissingVariableError(LookupError):
    """The variables given for an e-mail lack some its templates need: nothing was written."""

    def __init__(self, kind: NotificationKind, names: Iterable[str]) -> None:
        self.kind = kind
        self.names = tuple(sorted(names))
        super().__init__(
            f"the {kind.value} e-mail needs the variables {', '.join(self.names)}: none was written"
        )


def missing_variables(kind: NotificationKind, given: Iterable[str]) -> frozenset[str]:
    """The variables the kind's templates need that are not among ``given``."""
    return REQUIRED_VARIABLES[kind] - frozenset(given)


def require_variables(kind: NotificationKind, given: Iterable[str]) -> None:
    """Raise :class:`MissingVariableError` unless every variable the kind needs is given."""
    missing = missing_variables(kind, given)
    if missing:
        raise MissingVariableError(kind, missing)
