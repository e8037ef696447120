"""Keeping the recipients up to date from the identity and habilitation events (K23): who each
organisation's head and RGC are, every account's person, every habilitated person."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from kairos_notification.adapters import attendance, recipients
from kairos_notification.adapters.recipients import Habilitated, KnownOrganisation, Recipient
from kairos_schemas import Event
from kairos_schemas import declaration as declaration_events
from kairos_schemas import habilitation as habilitation_events
from kairos_schemas import identity as identity_events
from kairos_shared.db import Connection


def _person(person: identity_events.Person, account_id: str | None = None) -> Recipient:
    account = None if account_id is None else uuid.UUID(account_id)
    return Recipient(person.email, person.first_name, person.last_name, account)


async def learn(connection: Connection, event: Event) -> None:
    """Record what `event` says about who is who (before deciding who is told of it)."""
    match event:
        case identity_events.AdhesionValidated():
            head = event.head
            await recipients.organisation_validated(connection, KnownOrganisation(
                uuid.UUID(event.organisation_id), event.legal_name, event.siret, event.zone,
                Recipient(head.email, head.first_name, head.last_name),
                uuid.UUID(event.rgc_account_id),
                uuid.UUID(event.rgc_account_id) if event.head_is_rgc else None,  # K1: one account
            ))  # fmt: skip
            await recipients.person_created(
                connection, _person(event.rgc, event.rgc_account_id),
                uuid.UUID(event.organisation_id), "rgc",
            )  # fmt: skip
        case identity_events.AccountCreated():
            await _account_created(connection, event)
        case habilitation_events.HabilitationRecorded():
            await recipients.habilitation_recorded(connection, Habilitated(
                uuid.UUID(event.habilitation_id), uuid.UUID(event.organisation_id),
                _person(event.person), event.function, event.authorisation.signed_by,
                event.authorisation.signed_on,
            ))  # fmt: skip
        case habilitation_events.HabilitationActivated():
            await recipients.habilitation_activated(
                connection, uuid.UUID(event.habilitation_id), uuid.UUID(event.account_id)
            )
            if event.role == "head":
                await recipients.head_account(
                    connection, uuid.UUID(event.organisation_id), uuid.UUID(event.account_id)
                )
        case habilitation_events.RgcTookOffice():
            await recipients.rgc_changed(
                connection, uuid.UUID(event.organisation_id), uuid.UUID(event.rgc_account_id)
            )
        case identity_events.SessionEnded():
            await recipients.session_ended(connection, uuid.UUID(event.session_id), event.ended_at)
        case habilitation_events.RgcPostVacated():
            await recipients.rgc_changed(connection, uuid.UUID(event.organisation_id), None)
        case declaration_events.EntryDeclared() | declaration_events.ExitDeclared():
            await attendance.record(connection, _FACT[type(event)], _declared(event, _day(event)))
        case declaration_events.AttendanceDeclared():
            month = date.fromisoformat(f"{event.month}-01")
            await attendance.record(connection, "attendance_statement", _declared(event, month))
        case declaration_events.DeclarationCancelled():
            await attendance.cancelled(connection, uuid.UUID(event.declaration_id))
        case _:
            return


async def _account_created(connection: Connection, event: identity_events.AccountCreated) -> None:
    organisation = None if event.organisation_id is None else uuid.UUID(event.organisation_id)
    await recipients.person_created(
        connection, _person(event.person, event.account_id), organisation, event.role
    )
    if event.role == "head" and organisation and event.rgc_designation_id is not None:
        # opened by an operator, with no habilitation: the head holds the RGC's rights (K10)
        await recipients.head_account(connection, organisation, uuid.UUID(event.account_id))


_FACT: dict[type[Event], attendance.Fact] = {
    declaration_events.EntryDeclared: "training_entry",
    declaration_events.ExitDeclared: "training_exit",
}


def _day(event: declaration_events.EntryDeclared | declaration_events.ExitDeclared) -> date:
    if isinstance(event, declaration_events.EntryDeclared):
        return event.entered_on
    return event.exited_on


def _declared(event: Any, day: date) -> attendance.Declared:
    return attendance.Declared(
        uuid.UUID(event.declaration_id), uuid.UUID(event.organisation_id), event.trainee_id,
        event.session.action_number, event.session.session_number, day,
    )  # fmt: skip
