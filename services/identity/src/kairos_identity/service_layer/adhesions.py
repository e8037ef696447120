"""Adhesions and organisation access (K1-K3): request, validation, suspension, withdrawal,
reinstatement, renewal. Each changes state and writes its events in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from kairos_identity.adapters import accounts, organisations
from kairos_identity.adapters.organisations import Contact, OrganisationRecord
from kairos_identity.domain import organisations as rules
from kairos_identity.domain.accounts import Role
from kairos_identity.domain.organisation_identifiers import InvalidIdentifierError, Nda, Siret
from kairos_identity.service_layer.account_opening import (
    ProvisionalCredentials,
    create_account,
    person_of,
)
from kairos_identity.service_layer.adhesion_throttle import admit
from kairos_identity.service_layer.context import SOURCE, IdentityContext
from kairos_identity.service_layer.sessions import end_sessions
from kairos_schemas import Event
from kairos_schemas import identity as events
from kairos_shared import outbox
from kairos_shared.db import Connection
from kairos_shared.problems import FieldError, Problem, invalid_fields
from kairos_shared.tokens import AccessClaims
from kairos_shared.zones import (
    InvalidPostalCodeError,
    departement_of_postal_code,
    zone_of_postal_code,
)


@dataclass(frozen=True)
class AdhesionRequest:
    siret: str
    nda: str
    legal_name: str
    street: str
    postal_code: str
    city: str
    head: Contact
    rgc: Contact | None
    terms_version: str
    terms_accepted_on: date
    head_is_rgc: bool = False
    """One person, one account holding both roles (K1): no separate `rgc`."""


def _rgc_of(request: AdhesionRequest, errors: list[FieldError]) -> Contact:
    """The RGC the adhesion names: its own, or the head when the head is also the RGC (K1)."""
    if request.head_is_rgc:
        if request.rgc is not None:
            errors.append(FieldError("rgc", "leave it out when the head is also the RGC"))
        head = request.head
        return Contact(head.first_name, head.last_name, head.email)
    if request.rgc is None:
        errors.append(
            FieldError("rgc", "name the RGC, or say the head is also the RGC (head_is_rgc)")
        )
        return Contact("", "", "")
    return request.rgc


def _checked(request: AdhesionRequest, today: date) -> tuple[Siret, Nda, str, str, Contact]:
    """Parse what the rules check, collecting every bad field before refusing (K1)."""
    errors: list[FieldError] = []
    rgc = _rgc_of(request, errors)
    siret = nda = None
    departement = zone = ""
    try:
        siret = Siret.parse(request.siret)
    except InvalidIdentifierError as error:
        errors.append(FieldError("siret", str(error)))
    try:
        nda = Nda.parse(request.nda)
    except InvalidIdentifierError as error:
        errors.append(FieldError("nda", str(error)))
    try:
        departement = departement_of_postal_code(request.postal_code)
        zone = zone_of_postal_code(request.postal_code).value
    except InvalidPostalCodeError as error:
        errors.append(FieldError("address.postal_code", str(error)))
    if not rules.terms_date_is_plausible(request.terms_accepted_on, today):
        errors.append(FieldError("terms.accepted_on", "terms cannot be accepted in the future"))
    if errors or siret is None or nda is None:
        raise invalid_fields(errors)
    return siret, nda, departement, zone, rgc


def _head(contact: Contact) -> events.HeadOfOrganisation:
    return events.HeadOfOrganisation(
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        function=contact.function,
    )


async def request_adhesion(
    context: IdentityContext, request: AdhesionRequest, client_address: str
) -> uuid.UUID:
    """A new organisation, *requested* (K1); refused while a live adhesion holds the SIRET,
    and throttled per client address."""
    await admit(context, client_address)
    now = context.clock.now()
    siret, nda, departement, zone, rgc = _checked(request, now.date())
    record = OrganisationRecord(
        id=uuid.uuid4(), siret=str(siret), nda=str(nda), legal_name=request.legal_name,
        street=request.street, postal_code=request.postal_code, city=request.city,
        departement=departement, zone=zone, head=request.head, rgc=rgc,
        terms_version=request.terms_version, terms_accepted_on=request.terms_accepted_on,
        requested_at=now, access=rules.OrganisationAccess(rules.OrganisationStatus.REQUESTED),
        head_is_rgc=request.head_is_rgc,
    )  # fmt: skip
    event = events.AdhesionRequested(
        organisation_id=str(record.id), siret=record.siret, nda=record.nda,
        legal_name=record.legal_name,
        address=events.PostalAddress(street=record.street, postal_code=record.postal_code,
                                     city=record.city),
        departement=departement, zone=zone,
        head=_head(request.head), rgc=person_of(rgc),
        terms_version=record.terms_version, terms_accepted_on=record.terms_accepted_on,
        requested_at=now, head_is_rgc=record.head_is_rgc,
    )  # fmt: skip
    async with context.pool.acquire() as connection, connection.transaction():
        try:
            await organisations.insert(connection, record)
        except organisations.DuplicateSiretError:
            raise _siret_held(record.siret) from None
        await outbox.publish(connection, [event], source=SOURCE)
    return record.id


def _siret_held(siret: str) -> Problem:
    return Problem(
        status=409, title="Adhesion already exists", type="duplicate-adhesion",
        detail=f"a live adhesion (requested, active or suspended) already holds SIRET {siret}; "
        "the SIRET may apply again once it is rejected, expired or withdrawn",
        errors=[FieldError("siret", "a live adhesion already holds this SIRET")],
    )  # fmt: skip


async def organisation_for(
    context: IdentityContext, claims: AccessClaims, organisation_id: uuid.UUID
) -> OrganisationRecord:
    """The organisation, for an operator or one of its own people; 404 for anyone else (an
    organisation's existence is not disclosed to another's staff)."""
    own = claims.organisation_id == str(organisation_id)
    async with context.pool.acquire() as connection:
        record = await organisations.get(connection, organisation_id)
    if record is None or not (own or claims.role == Role.OPERATOR.value):
        raise Problem(status=404, title="No such organisation", type="not-found",
                      detail=f"no organisation {organisation_id}")  # fmt: skip
    return record


async def _locked(connection: Connection, organisation_id: uuid.UUID) -> OrganisationRecord:
    record = await organisations.get(connection, organisation_id, for_update=True)
    if record is None:
        raise Problem(
            status=404, title="No such organisation", type="not-found",
            detail=f"no organisation {organisation_id}",
        )  # fmt: skip
    return record


def _conflict(error: rules.OrganisationStateError) -> Problem:
    return Problem(status=409, title="Not allowed now", detail=str(error), type="invalid-state")


async def validate_adhesion(
    context: IdentityContext, organisation_id: uuid.UUID, operator_id: uuid.UUID
) -> ProvisionalCredentials:
    """Open the organisation's access for 3 years and create its RGC's account (K2, K6) — the
    head's too when the head is also the RGC: one account holding both roles (K1)."""
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        record = await _locked(connection, organisation_id)
        try:
            access = rules.validate(record.access, now)
        except rules.OrganisationStateError as error:
            raise _conflict(error) from None
        await organisations.save_access(
            connection, record.id, access, now=now, validated_by=operator_id
        )
        credentials = await create_account(
            context, connection, record.rgc, Role.RGC, organisation_id=record.id
        )
        validated = events.AdhesionValidated(
            organisation_id=str(record.id), siret=record.siret, legal_name=record.legal_name,
            zone=record.zone,
            head=_head(record.head), rgc=person_of(record.rgc),
            rgc_account_id=str(credentials.account_id), validated_at=now,
            validated_by=str(operator_id), access_expires_at=access.access_expires_at,
            head_is_rgc=record.head_is_rgc,
        )  # fmt: skip
        await outbox.publish(connection, [validated], source=SOURCE)
    return credentials


async def renew_access(
    context: IdentityContext, organisation_id: uuid.UUID, operator_id: uuid.UUID
) -> rules.OrganisationAccess:
    """A new 3-year access period (K2); expiry notices start again."""
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        record = await _locked(connection, organisation_id)
        try:
            access = rules.renew(record.access, now)
        except rules.OrganisationStateError as error:
            raise _conflict(error) from None
        try:
            await organisations.save_access(connection, record.id, access, now=now)
        except organisations.DuplicateSiretError:
            raise _siret_held(record.siret) from None
        assert access.access_expires_at is not None
        renewed = events.AdhesionRenewed(
            organisation_id=str(record.id), renewed_at=now, renewed_by=str(operator_id),
            access_expires_at=access.access_expires_at,
        )  # fmt: skip
        await outbox.publish(connection, [renewed], source=SOURCE)
    return access


async def reject_adhesion(
    context: IdentityContext, organisation_id: uuid.UUID, operator_id: uuid.UUID, reason: str
) -> rules.OrganisationAccess:
    """An operator turns a request down (K1), with a reason the head is told; the SIRET may
    apply again."""
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction():
        record = await _locked(connection, organisation_id)
        try:
            access = rules.reject(record.access)
        except rules.OrganisationStateError as error:
            raise _conflict(error) from None
        await organisations.save_access(connection, record.id, access, now=now, reason=reason)
        rejected = events.AdhesionRejected(
            organisation_id=str(record.id), siret=record.siret, legal_name=record.legal_name,
            zone=record.zone, head=_head(record.head), reason=reason, rejected_at=now,
            rejected_by=str(operator_id),
        )  # fmt: skip
        await outbox.publish(connection, [rejected], source=SOURCE)
    return access


@dataclass(frozen=True)
class StatusChange:
    step: str
    reason: str | None = None


async def change_status(
    context: IdentityContext,
    organisation_id: uuid.UUID,
    operator_id: uuid.UUID,
    change: StatusChange,
) -> rules.OrganisationAccess:
    """Suspend, withdraw or reinstate (K3); a suspension or withdrawal ends every session of the
    organisation at once, through events."""
    now = context.clock.now()
    operator = str(operator_id)
    async with context.pool.acquire() as connection, connection.transaction():
        record = await _locked(connection, organisation_id)
        org = str(record.id)
        try:
            if change.step == "suspend":
                access = rules.suspend(record.access)
                event: Event = events.OrganisationSuspended(
                    organisation_id=org, reason=change.reason or "", suspended_at=now,
                    suspended_by=operator,
                )  # fmt: skip
            elif change.step == "withdraw":
                access = rules.withdraw(record.access)
                event = events.OrganisationWithdrawn(
                    organisation_id=org, reason=change.reason or "", withdrawn_at=now,
                    withdrawn_by=operator,
                )  # fmt: skip
            else:
                access = rules.reinstate(record.access, now)
                event = events.OrganisationReinstated(
                    organisation_id=org, reinstated_at=now, reinstated_by=operator
                )
        except rules.OrganisationStateError as error:
            raise _conflict(error) from None
        await organisations.save_access(
            connection, record.id, access, now=now, reason=change.reason
        )
        await outbox.publish(connection, [event], source=SOURCE)
        if change.step in {"suspend", "withdraw"}:
            reason: events.SessionEndReason = (
                "organisation_suspended" if change.step == "suspend" else "organisation_withdrawn"
            )
            account_ids = await accounts.organisation_account_ids(connection, record.id)
            await end_sessions(connection, account_ids, reason=reason, now=now, organisation_id=org)
    return access
