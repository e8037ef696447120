"""How a habilitation stands in practice (K3, K15): whether it works today given its
organisation's access, and whether its holder's usage still justifies it."""

from __future__ import annotations

from datetime import datetime, timedelta

from kairos_habilitation.domain.habilitations import Habilitation, HabilitationStatus
from kairos_shared.clock import require_aware


def effective_status(habilitation: Habilitation, organisation_status: str) -> str:
    """`ended`, `pending_account`, `organisation_<status>` while the organisation's access is
    not active (suspended, withdrawn, expired: the habilitation stops without ending, K3),
    `suspended` (annual review, K14), else `active`."""
    if habilitation.status is HabilitationStatus.ENDED:
        return "ended"
    if organisation_status != "active":
        return f"organisation_{organisation_status}"
    if habilitation.status is HabilitationStatus.PENDING_ACCOUNT:
        return "pending_account"
    return "suspended" if habilitation.is_suspended else "active"


def is_unused(
    habilitation: Habilitation,
    activated_at: datetime | None,
    last_login_at: datetime | None,
    now: datetime,
    unused_after: timedelta,
) -> bool:
    """Whether an active habilitation's holder has not logged in for `unused_after` (K15):
    counted from the last login, or from the activation when the holder never logged in."""
    require_aware(now, "now")
    if habilitation.status is not HabilitationStatus.ACTIVE or activated_at is None:
        return False
    last_use = max(activated_at, last_login_at) if last_login_at else activated_at
    return now - last_use >= unused_after
