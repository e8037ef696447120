"""An organisation's RGC post: one active RGC per OF, and who holds its rights (K10).

The post is either held by exactly one RGC (the account they designate replaces the previous
one at once) or vacant since a known instant. The terms (CGU §4.1) make the RGC replaceable
"without delay" on departure, absence over 3 months or change of function, let the operator
demand their revocation, and presume the head of the organisation takes on the mission while
the post is vacant: the head then holds the RGC's rights (and the service tells them so).
The head's account is created by the RGC (K11), so it may not exist yet: a vacant post with no
head account has nobody holding the rights until an operator or the head acts.
"""

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kairos_shared.clock import require_aware


class VacancyReason(StrEnum):
    """Why the RGC post became vacant (K10, CGU §4.1)."""

    DEPARTURE = "departure"
    ABSENCE_OVER_3_MONTHS = "absence_over_3_months"
    CHANGE_OF_FUNCTION = "change_of_function"
    PROVISIONAL_ACCOUNT_LAPSED = "provisional_account_lapsed"
    OPERATOR_DEMAND = "operator_demand"


class Role(StrEnum):
    """The role a caller acts in (SPEC §1), as the identity service asserts it."""

    OPERATOR = "operator"
    HEAD = "head"
    RGC = "rgc"
    USER = "user"


class RgcPostError(ValueError):
    """A step was asked of the RGC post that its state does not allow."""


@dataclass(frozen=True, slots=True)
class RgcPost:
    """The RGC post of one organisation: held by `rgc_account_id`, or vacant since a time."""

    organisation_id: str
    rgc_account_id: str | None
    head_account_id: str | None
    vacant_since: datetime | None

    def __post_init__(self) -> None:
        if not self.organisation_id.strip():
            raise RgcPostError("organisation_id must not be blank")
        if (self.rgc_account_id is None) == (self.vacant_since is None):
            raise RgcPostError("a post is either held by an RGC or vacant since a time, not both")
        if self.vacant_since is not None:
            require_aware(self.vacant_since, "vacant_since")

    @property
    def is_vacant(self) -> bool:
        """Whether no RGC holds the post."""
        return self.rgc_account_id is None


@dataclass(frozen=True, slots=True)
class Designation:
    """The post after a designation, and the RGC it replaced (None when it was vacant)."""

    post: RgcPost
    replaced: str | None


def vacant_post(
    organisation_id: str, since: datetime, head_account_id: str | None = None
) -> RgcPost:
    """The post of an organisation before its first RGC is designated."""
    return RgcPost(organisation_id, None, head_account_id, require_aware(since, "since"))


def designate(post: RgcPost, account_id: str, now: datetime) -> Designation:
    """Make `account_id` the organisation's only active RGC, replacing the previous one (K10).

    Designating the RGC in office again changes nothing (idempotent, nobody replaced).
    """
    require_aware(now, "now")
    if not account_id.strip():
        raise RgcPostError("the designated RGC's account id must not be blank")
    if post.rgc_account_id == account_id:
        return Designation(post, None)
    held = dataclasses.replace(post, rgc_account_id=account_id, vacant_since=None)
    return Designation(held, post.rgc_account_id)


def vacate(post: RgcPost, reason: VacancyReason, now: datetime) -> RgcPost:
    """Leave the post vacant from `now` for `reason`; the head then holds the RGC's rights."""
    require_aware(now, "now")
    if post.is_vacant:
        raise RgcPostError(
            f"the RGC post of {post.organisation_id} is already vacant "
            f"since {post.vacant_since}; cannot vacate it for {reason}"
        )
    return dataclasses.replace(post, rgc_account_id=None, vacant_since=now)


def head_account_opened(post: RgcPost, account_id: str) -> RgcPost:
    """Record the head's account once the RGC has created it (K11)."""
    if not account_id.strip():
        raise RgcPostError("the head's account id must not be blank")
    return dataclasses.replace(post, head_account_id=account_id)


def head_account_closed(post: RgcPost) -> RgcPost:
    """The head's habilitation ended: the head's account holds no right until a new one opens."""
    return dataclasses.replace(post, head_account_id=None)


def who_holds_rgc_rights(post: RgcPost) -> str | None:
    """The account holding the RGC's rights: the RGC, else the head while the post is vacant."""
    return post.head_account_id if post.is_vacant else post.rgc_account_id


def may_manage_habilitations(post: RgcPost, account_id: str, role: Role) -> bool:
    """Whether `account_id`, acting as `role`, may create and end habilitations (K10, K11).

    Only the holder of the RGC's rights may: the RGC in office, or the head while the post is
    vacant. Operators demand and flag (K10, K15) but never manage habilitations themselves.
    The head who is also the RGC (K1) holds one account: its token says `rgc` until relieved.
    """
    if post.is_vacant:
        return is_the_head(post, account_id, role)
    return role is Role.RGC and account_id == post.rgc_account_id


def is_the_head(post: RgcPost, account_id: str, role: Role) -> bool:
    """Whether `account_id` is the organisation's head: its head account, acting as head — or
    as RGC, when the head is also the RGC (K1: one person, one account holding both roles)."""
    return role in {Role.HEAD, Role.RGC} and account_id == post.head_account_id
