"""Who may declare, and read declarations, for which organisation (K17, K22): decided from the
caller's token, validated offline, and from this service's own view of the identity and
habilitation events — never by asking another service (K9, K17).

Checked in this order, each refusal an RFC 9457 problem with its own ``type``:

1. a valid token whose session has not ended and whose account has not lapsed (401
   ``unauthenticated``), a full session (403 ``password-change-required``);
2. OF roles act on their own organisation only: 403 ``forbidden`` before anything about another
   organisation is looked at, let alone revealed; operators never declare (403 ``forbidden``)
   but read every organisation's declarations, at any hour;
3. the organisation known here (an OF role's own organisation not known yet: 503
   ``organisation-being-set-up`` with ``Retry-After``, its validation is on its way; an
   operator asking about an unknown one: 404) with its access active (403
   ``organisation-access-not-active``);
4. an active habilitation for it, or its RGC post (403 ``not-habilitated``, with the reason);
5. inside opening hours of the organisation's zone (403 ``outside-access-hours``, K4).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kairos_declaration.adapters import access_view
from kairos_declaration.domain.access import Allowed, Refusal, Refused, Role, may_declare
from kairos_declaration.service_layer.context import DeclarationContext
from kairos_shared.access_hours import refusal
from kairos_shared.db import Connection
from kairos_shared.problems import (
    Problem,
    forbidden,
    organisation_being_set_up,
    unauthenticated,
)
from kairos_shared.tokens import ACCESS_TOKEN_LIFETIME, AccessClaims
from kairos_shared.zones import Zone

ENDED_SESSION_MEMORY = ACCESS_TOKEN_LIFETIME * 6
"""How long an ended login session is remembered: well past the last expiry of a token issued
before it ended (with clock skew)."""


@dataclass(frozen=True)
class Actor:
    """A caller whose token, session and account are valid here."""

    account_id: uuid.UUID
    role: Role
    organisation_id: uuid.UUID | None
    session_id: uuid.UUID

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR


@dataclass(frozen=True)
class DeclarerScope:
    """An organisation the actor may declare for now, and by what right."""

    organisation_id: uuid.UUID
    zone: Zone
    actor: Actor
    habilitation_id: uuid.UUID | None = None
    """The habilitation the actor declares under; None for the RGC in office."""
    as_rgc: bool = False


@dataclass(frozen=True)
class ReaderScope:
    """An organisation whose declarations the actor may read now."""

    organisation_id: uuid.UUID
    zone: Zone
    actor: Actor


def _uuid(value: str | None, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise unauthenticated(f"the access token's {what} is not an identifier") from None


async def actor_of(connection: Connection, claims: AccessClaims) -> Actor:
    """The caller, once its session and account are known to be alive here (K9, K6)."""
    session_id = _uuid(claims.session_id, "session")
    account_id = _uuid(claims.account_id, "account")
    ended, lapsed = await access_view.caller_refusals(connection, session_id, account_id)
    if ended:
        raise unauthenticated("this session has ended: log in again")
    if lapsed:
        raise unauthenticated("this account has lapsed")
    if claims.password_change_only:
        raise Problem(
            status=403, title="Password change required", type="password-change-required",
            detail="provisional credentials only allow changing the password (identity service)",
        )  # fmt: skip
    try:
        role = Role(claims.role)
    except ValueError:
        raise forbidden(f"unknown role {claims.role!r}") from None
    organisation_id = (
        None if claims.organisation_id is None else _uuid(claims.organisation_id, "organisation")
    )
    return Actor(account_id, role, organisation_id, session_id)


def _own_organisation_only(actor: Actor, organisation_id: uuid.UUID) -> None:
    if actor.organisation_id != organisation_id:
        raise forbidden("you may only act for your own organisation", title="Not your organisation")


def _problem(refused: Refused) -> Problem:
    if refused.reason.concerns_the_organisation:
        status = refused.organisation_status
        return Problem(
            status=403, title="Organisation access not active",
            type="organisation-access-not-active", detail=refused.detail,
            extensions={"organisation_status": None if status is None else status.value},
        )  # fmt: skip
    return Problem(
        status=403, title="Not habilitated", type="not-habilitated", detail=refused.detail,
        extensions={"reason": refused.reason.value},
    )  # fmt: skip


async def _of_role_allowed(
    context: DeclarationContext, connection: Connection, actor: Actor, organisation_id: uuid.UUID
) -> Allowed:
    """K17 for an OF role acting on its own organisation, then opening hours (K4)."""
    _own_organisation_only(actor, organisation_id)
    facts = await access_view.declarer_facts(connection, actor.account_id, organisation_id)
    now = context.clock.now()
    verdict = may_declare(facts, now)
    if isinstance(verdict, Refused):
        if verdict.reason is Refusal.ORGANISATION_UNKNOWN:  # named by the token: on its way
            raise organisation_being_set_up(organisation_id, context.setup_retry_after_seconds)
        raise _problem(verdict)
    decision = context.calendar.decide(now, verdict.zone)
    if not decision.open:
        raise refusal(decision)
    return verdict


async def declarer_scope(
    context: DeclarationContext, connection: Connection, actor: Actor, organisation_id: uuid.UUID
) -> DeclarerScope:
    """For writing declarations (K17): the organisation's habilitated people and its RGC in
    office, inside opening hours; never operators."""
    if actor.is_operator:
        raise forbidden(
            "operators read declarations but never declare for an organisation",
            title="Operators do not declare",
        )
    allowed = await _of_role_allowed(context, connection, actor, organisation_id)
    habilitation_id = (
        None if allowed.habilitation_id is None else uuid.UUID(allowed.habilitation_id)
    )
    return DeclarerScope(organisation_id, allowed.zone, actor, habilitation_id, allowed.as_rgc)


async def reader_scope(
    context: DeclarationContext, connection: Connection, actor: Actor, organisation_id: uuid.UUID
) -> ReaderScope:
    """For reading declarations (K22): operators read every organisation known here (404 for
    one that is not); OF people read their own organisation's while they may declare for it."""
    if actor.is_operator:
        organisation = await access_view.organisation(connection, organisation_id)
        if organisation is None:
            raise Problem(
                status=404, title="No such organisation", type="not-found",
                detail=f"no validated organisation {organisation_id} is known here",
            )  # fmt: skip
        return ReaderScope(organisation_id, organisation.zone, actor)
    allowed = await _of_role_allowed(context, connection, actor, organisation_id)
    return ReaderScope(organisation_id, allowed.zone, actor)


async def prune_ended_sessions(context: DeclarationContext) -> int:
    """Forget login sessions none of whose tokens can still be presented (a periodic job)."""
    async with context.pool.acquire() as connection:
        return await access_view.prune_ended_sessions(
            connection, context.clock.now() - ENDED_SESSION_MEMORY
        )
