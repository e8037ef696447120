"""Who may do what here (the authorisation model, README "Authorisation"): decided from the
caller's token, validated offline, and from this service's own view of the identity and
habilitation events — never by asking another service (K9, K17).

- operators act across organisations, at any hour, but never manage habilitations themselves;
- the holder of the RGC's rights (the RGC in office, or the head while the post is vacant, K10)
  manages the habilitations of its own organisation only;
- the head designates and relieves the RGC;
- OF roles act only while their organisation's access is active and inside opening hours (K4).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kairos_habilitation.adapters import accounts, organisations
from kairos_habilitation.adapters.organisations import Organisation
from kairos_habilitation.domain.rgc_post import (
    RgcPost,
    Role,
    is_the_head,
    may_manage_habilitations,
)
from kairos_habilitation.service_layer.context import HabilitationContext
from kairos_shared.access_hours import refusal
from kairos_shared.db import Connection
from kairos_shared.problems import (
    Problem,
    forbidden,
    organisation_being_set_up,
    unauthenticated,
)
from kairos_shared.tokens import AccessClaims
from kairos_shared.zones import Zone


@dataclass(frozen=True)
class Actor:
    """A caller whose token and session are valid."""

    account_id: str
    role: Role
    organisation_id: str | None

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR


@dataclass(frozen=True)
class OrganisationScope:
    """An organisation the actor may act on, with its RGC post."""

    organisation: Organisation
    post: RgcPost


async def actor_of(connection: Connection, claims: AccessClaims) -> Actor:
    """The caller, once its session and account are known to be alive here (K9)."""
    if await accounts.is_session_ended(connection, uuid.UUID(claims.session_id)):
        raise unauthenticated("this session has ended: log in again")
    account = await accounts.get(connection, uuid.UUID(claims.account_id))
    if account is not None and account.status == "lapsed":
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
    return Actor(claims.account_id, role, claims.organisation_id)


def require_operator(actor: Actor) -> None:
    if not actor.is_operator:
        raise forbidden(
            "this action is reserved to France Travail operators", title="Operators only"
        )


async def _scope(
    context: HabilitationContext, connection: Connection, actor: Actor, organisation_id: uuid.UUID
) -> OrganisationScope:
    """The organisation, if `actor` belongs to it (or is an operator) and, for OF roles, its
    access is active and the platform open in its zone. 403 before anything is revealed; for
    an organisation not known here, 404 to an operator, 503 to its own people (its validation
    has not reached this service yet)."""
    if not actor.is_operator and actor.organisation_id != str(organisation_id):
        raise forbidden("you may only act on your own organisation", title="Not your organisation")
    organisation = await organisations.get(connection, organisation_id)
    post = await organisations.post(connection, organisation_id)
    if organisation is None or post is None:
        if not actor.is_operator:  # its own, named by its token: the validation is on its way
            raise organisation_being_set_up(organisation_id, context.setup_retry_after_seconds)
        raise Problem(
            status=404, title="No such organisation", type="not-found",
            detail=f"no validated organisation {organisation_id}",
        )  # fmt: skip
    if not actor.is_operator:
        if not organisation.is_active:
            raise Problem(
                status=403, title="Organisation access not active",
                type="organisation-access-not-active",
                detail=f"the organisation's access to the platform is {organisation.status}",
                extensions={"organisation_status": organisation.status},
            )  # fmt: skip
        decision = context.calendar.decide(context.clock.now(), Zone(organisation.zone))
        if not decision.open:
            raise refusal(decision)
    return OrganisationScope(organisation, post)


async def rights_holder_scope(
    context: HabilitationContext, connection: Connection, actor: Actor, organisation_id: uuid.UUID
) -> OrganisationScope:
    """For managing habilitations: the RGC in office, or the head while the post is vacant."""
    if actor.is_operator:
        raise forbidden(
            "operators demand (POST .../demands) but never manage habilitations themselves",
            title="Not the RGC",
        )
    scope = await _scope(context, connection, actor, organisation_id)
    if not may_manage_habilitations(scope.post, actor.account_id, actor.role):
        holder = "the head (the RGC post is vacant)" if scope.post.is_vacant else "the RGC"
        raise forbidden(f"only {holder} of the organisation may do this", title="Not the RGC")
    return scope


async def head_scope(
    context: HabilitationContext, connection: Connection, actor: Actor, organisation_id: uuid.UUID
) -> OrganisationScope:
    """For designating and relieving the RGC (CGU §4.1): the head of the organisation only."""
    if actor.is_operator:
        raise forbidden(
            "the head designates the RGC; operators may demand its revocation", title="Not the head"
        )
    scope = await _scope(context, connection, actor, organisation_id)
    if not is_the_head(scope.post, actor.account_id, actor.role):
        raise forbidden("only the head of the organisation may do this", title="Not the head")
    return scope


async def reader_scope(
    context: HabilitationContext, connection: Connection, actor: Actor, organisation_id: uuid.UUID
) -> OrganisationScope:
    """For reading an organisation's habilitations and post: operators, its RGC, its head."""
    scope = await _scope(context, connection, actor, organisation_id)
    if actor.is_operator or actor.account_id in {
        scope.post.rgc_account_id,
        scope.post.head_account_id,
    }:
        return scope
    raise forbidden("only the organisation's RGC and head, and operators, may read this")
