"""K23: each event that calls for an e-mail queues the right kind for the right people, written
in French from the real templates — checked event by event on a real database (the directory
learns from the same events, in the order Kafka may deliver them)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import asyncpg
import pytest_asyncio

from kairos_notification.adapters.templates import TemplateRenderer
from kairos_notification.service_layer.queueing import on_event
from kairos_schemas import Event, identity, to_cloudevent
from kairos_schemas import declaration as declarations
from kairos_schemas import habilitation as habilitations
from kairos_shared.inbox import Delivery
from kairos_shared.migrations import apply_migrations
from kairos_shared.runtime import SHARED_MIGRATIONS

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ORG = str(uuid.uuid4())
RGC, HEAD, USER, NEW_RGC = (str(uuid.uuid4()) for _ in range(4))
HABILITATION = str(uuid.uuid4())
HEAD_MAIL, RGC_MAIL, USER_MAIL, NEW_RGC_MAIL = (
    "ines@of.example", "paul@of.example", "fanny@of.example", "nora@of.example",
)  # fmt: skip


def _person(first: str, email: str) -> identity.Person:
    return identity.Person(first_name=first, last_name="Martin", email=email)


@pytest_asyncio.fixture(loop_scope="session")
async def connection(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    try:
        await apply_migrations(connection, SHARED_MIGRATIONS, component="kairos_shared")
        migrations = Path(str(files("kairos_notification") / "migrations"))
        await apply_migrations(connection, migrations, component="notification")
        yield connection
    finally:
        await connection.close()


async def _told(connection: asyncpg.Connection, event: Event) -> list[tuple[str, str]]:
    """Apply `event` as the consumer does: the (kind, recipient) of the e-mails it queued
    (including those of events that waited for it)."""
    query = "SELECT id, kind, recipient_email FROM notification"
    before = {row["id"] for row in await connection.fetch(query)}
    cloudevent = to_cloudevent(event, source="/test")
    async with connection.transaction():
        await on_event(
            connection, TemplateRenderer(), event, Delivery(cloudevent, event.topic, 0, 0), NOW
        )
    rows = [row for row in await connection.fetch(query) if row["id"] not in before]
    return sorted((row["kind"], row["recipient_email"]) for row in rows)


def _validated() -> identity.AdhesionValidated:
    head = identity.HeadOfOrganisation(
        first_name="Inès", last_name="Roux", email=HEAD_MAIL, function="Directrice"
    )
    return identity.AdhesionValidated(
        organisation_id=ORG, siret="73282932000074", legal_name="Atelier <Formation> & Co",
        zone="guadeloupe", head=head, rgc=_person("Paul", RGC_MAIL), rgc_account_id=RGC,
        validated_at=NOW, validated_by=str(uuid.uuid4()),
        access_expires_at=NOW + timedelta(days=3 * 365),
    )  # fmt: skip


def _account(account_id: str, role: str, who: identity.Person, **more: Any) -> Event:
    return identity.AccountCreated(
        account_id=account_id, organisation_id=ORG, role=role, login_id="x", person=who,
        provisional_until=NOW + timedelta(days=21), **more,
    )  # fmt: skip


def _stories() -> list[tuple[Event, list[tuple[str, str]]]]:
    signed = habilitations.SignedAuthorisation(
        signed_by="Inès Roux", signed_on=date(2026, 3, 1),
        document_sha256=hashlib.sha256(b"x").hexdigest(),
    )  # fmt: skip
    session = declarations.TrainingSession(action_number="01_AF_1", session_number="01_SE_1")
    late = {"declaration_id": str(uuid.uuid4()), "organisation_id": ORG, "session": session,
            "declared_by": USER, "declared_at": NOW, "due_by": date(2026, 2, 5),
            "trainee_id": "1234567A", "entered_on": date(2026, 2, 2)}  # fmt: skip
    return [
        # The RGC's account is announced before its organisation is known: it waits for it.
        (_account(RGC, "rgc", _person("Paul", RGC_MAIL)), []),
        (_validated(), [("adhesion_validated", HEAD_MAIL), ("adhesion_validated", RGC_MAIL),
                        ("rgc_account_created", RGC_MAIL)]),
        (identity.ProvisionalAccessReminder(account_id=RGC, organisation_id=ORG, role="rgc",
         provisional_until=NOW + timedelta(days=21), days_left=7),
         [("provisional_access_reminder", RGC_MAIL)]),
        (habilitations.HabilitationRecorded(
            habilitation_id=HABILITATION, organisation_id=ORG, role="user",
            person=_person("Fanny", USER_MAIL), function="formatrice", authorisation=signed,
            employee_attested=True, recorded_by=RGC, recorded_at=NOW), []),
        (_account(USER, "user", _person("Fanny", USER_MAIL), habilitation_id=HABILITATION),
         [("account_created", USER_MAIL)]),
        (habilitations.HabilitationActivated(
            habilitation_id=HABILITATION, organisation_id=ORG, account_id=USER, role="user",
            activated_at=NOW), [("habilitation_granted", USER_MAIL)]),
        (declarations.EntryDeclared(version=1, late=True, **late),
         [("declaration_late", USER_MAIL)]),
        (declarations.EntryDeclared(version=2, late=True, **late), []),  # a correction
        (habilitations.OperatorDemandIssued(
            organisation_id=ORG, demand_id=str(uuid.uuid4()), kind="end_habilitations",
            habilitation_ids=[HABILITATION], reason="aucune connexion depuis 90 jours",
            issued_by=str(uuid.uuid4()), issued_at=NOW, deadline=NOW + timedelta(days=30)),
         [("operator_demand", RGC_MAIL)]),
        (identity.RgcAccountLapsed(account_id=RGC, organisation_id=ORG, lapsed_at=NOW),
         [("rgc_account_lapsed", RGC_MAIL)]),
        (habilitations.RgcPostVacated(
            organisation_id=ORG, reason="provisional_account_lapsed", former_rgc_account_id=RGC,
            head_account_id=HEAD, vacated_at=NOW), [("rgc_post_vacant_head_in_charge", HEAD_MAIL)]),
        # While the post is vacant the head holds the RGC's rights: it is told of the review.
        (habilitations.ReviewCampaignOpened(
            organisation_id=ORG, campaign_id=str(uuid.uuid4()), year=2027, opens_at=NOW,
            deadline=NOW + timedelta(days=30), habilitation_ids=[HABILITATION]),
         [("review_opened", HEAD_MAIL)]),
        # A request made without an account, in the head's name: the head is told; the head's
        # own (logged in) is not.
        (habilitations.RgcDesignationRequested(
            organisation_id=ORG, rgc_designation_id=str(uuid.uuid4()),
            person=_person("Yann", "yann@of.example"), requested_at=NOW),
         [("rgc_designation_requested", HEAD_MAIL)]),
        (habilitations.RgcDesignationRequested(
            organisation_id=ORG, rgc_designation_id=str(uuid.uuid4()),
            person=_person("Yann", "yann@of.example"), requested_by=HEAD, requested_at=NOW), []),
        # An operator rejects a designation: the head is told why and how to request again.
        (habilitations.RgcDesignationRejected(
            organisation_id=ORG, rgc_designation_id=str(uuid.uuid4()),
            person=_person("Yann", "yann@of.example"), reason="personne inconnue",
            rejected_by=str(uuid.uuid4()), rejected_at=NOW),
         [("rgc_designation_rejected", HEAD_MAIL)]),
        # With neither an RGC nor a head account, a validated designation opens the head's.
        (_account(str(uuid.uuid4()), "head", _person("Inès", HEAD_MAIL),
                  rgc_designation_id=str(uuid.uuid4())),
         [("head_account_opened", HEAD_MAIL)]),
        (_account(NEW_RGC, "rgc", _person("Nora", NEW_RGC_MAIL),
                  rgc_designation_id=str(uuid.uuid4())),
         [("rgc_account_created", NEW_RGC_MAIL)]),
        (habilitations.RgcTookOffice(organisation_id=ORG, rgc_account_id=NEW_RGC,
         rgc_designation_id=str(uuid.uuid4()), since=NOW), [("rgc_took_office", HEAD_MAIL)]),
        (identity.OrganisationSuspended(organisation_id=ORG, reason="CGU §8", suspended_at=NOW,
         suspended_by=str(uuid.uuid4())),
         [("organisation_suspended", HEAD_MAIL), ("organisation_suspended", NEW_RGC_MAIL)]),
        (habilitations.HabilitationEnded(
            habilitation_id=HABILITATION, organisation_id=ORG, reason="departure", ended_at=NOW,
            account_id=USER), [("habilitation_ended", USER_MAIL)]),
        (identity.SessionStarted(account_id=USER, organisation_id=ORG, session_id=str(uuid.uuid4()),
         role="user", started_at=NOW), []),
    ]  # fmt: skip


async def test_each_event_tells_the_right_people(connection: asyncpg.Connection) -> None:
    for event, expected in _stories():
        assert await _told(connection, event) == sorted(expected), type(event).__name__


async def test_nothing_written_carries_markup_unescaped(connection: asyncpg.Connection) -> None:
    await _told(connection, _validated())
    rows = await connection.fetch("SELECT text_body, html_body FROM notification")
    assert rows
    for row in rows:
        assert "Atelier <Formation> & Co" in row["text_body"]
        assert "<Formation>" not in row["html_body"]
        assert "Atelier &lt;Formation&gt; &amp; Co" in row["html_body"]
