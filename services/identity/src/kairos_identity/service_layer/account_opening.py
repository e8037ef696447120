"""Opening a personal account (K5, K6, K11): a generated login id, provisional credentials valid
21 days for an RGC and 7 for anyone else, and an ``AccountCreated`` event that never carries
them. The RGC of an adhesion and operators get their password at once; a habilitated person, or
the account of a validated RGC designation, gets theirs when the person who hands it over (the
RGC, or the validating operator) retrieves it. An RGC's 21 days run from the validation or
designation; anyone else's 7 from the retrieval (K6): until that, the account has no deadline
(``provisional_until`` is None)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from kairos_identity.adapters import accounts, organisations
from kairos_identity.adapters.organisations import Contact
from kairos_identity.domain.accounts import Role, provisional_deadline
from kairos_identity.domain.login_ids import login_id_candidates
from kairos_identity.domain.passwords import generate_provisional_password, normalise_password
from kairos_identity.service_layer.context import SOURCE, IdentityContext
from kairos_schemas import identity as events
from kairos_shared import outbox
from kairos_shared.db import Connection


@dataclass(frozen=True)
class ProvisionalCredentials:
    """Shown once to whoever hands them over (K6, K11); never stored in clear, never sent.
    ``provisional_password`` is empty for an account whose credentials are issued later (a
    habilitated person's or a designated RGC's, when they are retrieved)."""

    account_id: uuid.UUID
    login_id: str
    provisional_password: str
    provisional_until: datetime | None


def person_of(contact: Contact) -> events.Person:
    return events.Person(
        first_name=contact.first_name, last_name=contact.last_name, email=contact.email
    )


def new_provisional_password(
    context: IdentityContext, login_id: str, names: tuple[str, str]
) -> str:
    return generate_provisional_password(context.password_policy, login_id=login_id, names=names)


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


async def create_account(
    context: IdentityContext,
    connection: Connection,
    person: Contact,
    role: Role,
    *,
    organisation_id: uuid.UUID | None,
    habilitation_id: uuid.UUID | None = None,
    rgc_designation_id: uuid.UUID | None = None,
    hand_over_by: uuid.UUID | None = None,
    issue_password: bool = True,
) -> ProvisionalCredentials:
    """A provisional account (K6, K11) and its AccountCreated event, in the caller's
    transaction; its provisional password now, or (``issue_password=False``) when retrieved."""
    now = context.clock.now()
    names = (person.first_name, person.last_name)
    login_id = await accounts.first_free_login_id(connection, login_id_candidates(*names))
    password = new_provisional_password(context, login_id, names) if issue_password else ""
    zone = await organisations.zone_of(connection, organisation_id)
    starts_now = bool(password) or role is Role.RGC  # an RGC's 21 days: from the designation
    until = (
        provisional_deadline(role, now, context.provisional_validity, zone) if starts_now else None
    )
    hashed = await context.hashing.hash(normalise_password(password)) if password else None
    row = accounts.AccountRow(
        id=uuid.uuid4(), organisation_id=organisation_id, role=role.value, login_id=login_id,
        first_name=person.first_name, last_name=person.last_name, email=person.email,
        status="provisional",
        password_hash=hashed,
        must_change_password=True, provisional_until=until, failed_logins=0,
        last_failed_login_at=None, habilitation_id=habilitation_id,
        rgc_designation_id=rgc_designation_id, hand_over_by=hand_over_by,
    )  # fmt: skip
    await accounts.insert(connection, row, now=now)
    created = events.AccountCreated(
        account_id=str(row.id), organisation_id=_text(organisation_id), role=role.value,
        login_id=login_id, person=person_of(person), provisional_until=until,
        habilitation_id=_text(habilitation_id), rgc_designation_id=_text(rgc_designation_id),
    )  # fmt: skip
    await outbox.publish(connection, [created], source=SOURCE)
    return ProvisionalCredentials(row.id, login_id, password, until)
