"""What the RGC post's events do to accounts (K10, K1), in the consumer's inbox transaction and
naturally idempotent: a designation validated by an operator, on the same terms as the first RGC
(CGU §4.1), opens the new RGC's account with 21 days to log in (K6), or the head's account; a
vacated post takes every right from the former RGC, whose account is disabled and sessions
ended at once (K9) — unless the former RGC is also the head: that account becomes the head's."""

from __future__ import annotations

import uuid

import structlog

from kairos_identity.adapters import habilitation_accounts
from kairos_identity.adapters.organisations import Contact
from kairos_identity.domain.accounts import AccountStatus, Role, has_ended
from kairos_identity.service_layer.account_opening import create_account
from kairos_identity.service_layer.context import IdentityContext
from kairos_identity.service_layer.habilitations import active_organisation
from kairos_identity.service_layer.sessions import end_sessions
from kairos_schemas import habilitation as habilitation_events
from kairos_shared.db import Connection

log = structlog.get_logger(__name__)


async def open_designated_rgc_account(
    context: IdentityContext, connection: Connection, event: habilitation_events.RgcDesignated
) -> None:
    """The validated designation's account — a new RGC's, provisional for 21 days, or the
    head's — announced by an AccountCreated carrying the designation; the operator who
    validated it retrieves its credentials once (no secret in events)."""
    designation_id = uuid.UUID(event.rgc_designation_id)
    existing = await habilitation_accounts.designated_rgc_account(connection, designation_id)
    if existing is not None:
        log.info("RGC designation already has its account", account_id=str(existing))
        return
    organisation = await active_organisation(
        connection, event.organisation_id, f"RGC designation {designation_id}"
    )
    person = Contact(event.person.first_name, event.person.last_name, event.person.email)
    role = Role.HEAD if event.account_role == "head" else Role.RGC
    hand_over_by = None if event.validated_by is None else uuid.UUID(event.validated_by)
    await create_account(
        context, connection, person, role, organisation_id=organisation.id,
        rgc_designation_id=designation_id, hand_over_by=hand_over_by, issue_password=False,
    )  # fmt: skip


async def relieve_former_rgc(
    context: IdentityContext, connection: Connection, event: habilitation_events.RgcPostVacated
) -> None:
    """Disable the former RGC's account and end its sessions, unless it has already ended (an
    RGC account that lapsed, K6, or was disabled: nothing changes)."""
    account_id = uuid.UUID(event.former_rgc_account_id)
    status = await habilitation_accounts.rgc_status(
        connection, account_id, uuid.UUID(event.organisation_id)
    )
    if status is None:
        log.warning("vacated RGC post names no RGC account of the organisation",
                    account_id=event.former_rgc_account_id)  # fmt: skip
        return
    if has_ended(AccountStatus(status)):
        log.info("former RGC account already ended", account_id=str(account_id), status=status)
        return
    if event.head_account_id == event.former_rgc_account_id:
        # The head was also the RGC (K1): the person keeps the head's account, and with it the
        # RGC's rights while the post is vacant (K10); its next session says so.
        await habilitation_accounts.keep_as_head(connection, account_id)
    else:
        await habilitation_accounts.disable(connection, account_id)
    await end_sessions(
        connection,
        [account_id],
        reason="rgc_post_vacated",
        now=context.clock.now(),
        organisation_id=event.organisation_id,
    )
