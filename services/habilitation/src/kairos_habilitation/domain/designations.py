"""Designating a successor RGC on the same terms as the first (CGU §4.1, K10).

The organisation names the person — its head, logged in, or, when the head has no account yet,
a request made without an account, tied to the SIRET and checked against the head the adhesion
declared — and an operator validates it, as for the first RGC; the operator then hands the
provisional credentials over. When the organisation has neither an RGC in office nor a head
account, the same path opens the head's account instead, so that the head (« la direction »,
presumed to take on the mission) can act. Nobody is ever left without a way to act.
"""

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from kairos_habilitation.domain.rgc_post import RgcPost


class DesignatedRole(StrEnum):
    """The account a designation opens: a new RGC's, or the head's (K10)."""

    RGC = "rgc"
    HEAD = "head"


class DesignationStatus(StrEnum):
    PENDING = "pending"
    VALIDATED = "validated"
    REJECTED = "rejected"


class DesignationError(ValueError):
    """A designation step that the organisation's state does not allow."""


@dataclass(frozen=True, slots=True)
class DeclaredHead:
    """The head as declared in the adhesion, or as the requester says it is."""

    first_name: str
    last_name: str
    email: str


def _folded(text: str) -> str:
    """Case, accents and repeated or surrounding spaces aside (« Inès » is « ines »)."""
    decomposed = unicodedata.normalize("NFKD", " ".join(text.split()).casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def is_the_declared_head(declared: DeclaredHead, claimed: DeclaredHead) -> bool:
    """Whether a request made without an account names the head the adhesion declared: same
    names and e-mail address, ignoring case, accents and surrounding or repeated spaces."""
    return (
        _folded(declared.first_name) == _folded(claimed.first_name)
        and _folded(declared.last_name) == _folded(claimed.last_name)
        and _folded(declared.email) == _folded(claimed.email)
    )


def check_request_without_account(post: RgcPost, *, head_can_log_in: bool) -> None:
    """A request made without an account is only for an organisation nobody can act for: the
    RGC post vacant and no head account the head can log in with (otherwise the RGC or the
    head act, logged in). A head account that lapsed counts as none."""
    if head_can_log_in:
        raise DesignationError(
            "the head of the organisation has a Kairos account: the head logs in and designates "
            "the new RGC (PUT /v1/organisations/{id}/rgc)"
        )
    if not post.is_vacant:
        raise DesignationError(
            "the organisation's RGC is in office: the RGC opens the head's account (a "
            "habilitation of the head), and the head then designates"
        )


def check_validation(
    post: RgcPost, role: DesignatedRole, status: DesignationStatus, *, head_can_log_in: bool
) -> None:
    """An operator validates a pending designation while it still makes sense: a new RGC only
    while the post is vacant, the head's account only while the head has none to log in with."""
    if status is not DesignationStatus.PENDING:
        raise DesignationError(f"the designation is {status.value}, not pending")
    if role is DesignatedRole.HEAD and head_can_log_in:
        raise DesignationError("the head's account already exists")
    if role is DesignatedRole.RGC and not post.is_vacant:
        raise DesignationError("an RGC took office since the request: the post is not vacant")


def check_rejection(status: DesignationStatus) -> None:
    if status is not DesignationStatus.PENDING:
        raise DesignationError(f"the designation is {status.value}, not pending")
