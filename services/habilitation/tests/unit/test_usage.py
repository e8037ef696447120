"""K3, K14, K15: how a habilitation stands in practice — stopped while its organisation's access
is not active, suspended by the review — and whether its holder's usage still justifies it."""

from datetime import UTC, date, datetime, timedelta

import pytest

from kairos_habilitation.domain.habilitations import (
    EndReason,
    HabilitatedPerson,
    Habilitation,
    HabilitationRole,
    HabilitationStateError,
    SignedAuthorisation,
    account_opened,
    end,
    record_habilitation,
    reinstate,
    suspend,
)
from kairos_habilitation.domain.usage import effective_status, is_unused

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NINETY_DAYS = timedelta(days=90)


def pending() -> Habilitation:
    return record_habilitation(
        "h-1", "of-1", role=HabilitationRole.USER,
        person=HabilitatedPerson("Ada", "Lovelace", "ada@of.example"), function="formatrice",
        authorisation=SignedAuthorisation("Inès Roux", date(2026, 3, 1), "a" * 64),
        employee_attested=True, recorded_by="rgc-1", recorded_at=T0,
    )  # fmt: skip


def active() -> Habilitation:
    return account_opened(pending(), "account-1")


@pytest.mark.parametrize("status", ["suspended", "withdrawn", "expired"])
def test_an_organisation_without_access_stops_every_live_habilitation(status: str) -> None:
    assert effective_status(active(), status) == f"organisation_{status}"
    assert effective_status(pending(), status) == f"organisation_{status}"
    assert effective_status(active(), "active") == "active"


def test_an_ended_habilitation_stays_ended_whatever_the_organisation() -> None:
    ended = end(active(), EndReason.DEPARTURE, T0)
    assert effective_status(ended, "suspended") == "ended"


def test_a_suspension_is_undone_by_reinstatement_but_not_after_an_ending() -> None:
    suspended = suspend(active(), T0)
    assert effective_status(suspended, "active") == "suspended"
    assert suspend(suspended, T0 + timedelta(days=1)) == suspended  # idempotent
    assert effective_status(reinstate(suspended), "active") == "active"
    with pytest.raises(HabilitationStateError):
        reinstate(active())
    with pytest.raises(HabilitationStateError):
        suspend(end(active(), EndReason.DEPARTURE, T0), T0)


def test_unused_counts_from_the_last_login_or_from_the_activation() -> None:
    habilitation = active()
    later = T0 + NINETY_DAYS
    assert is_unused(habilitation, T0, None, later, NINETY_DAYS)
    assert not is_unused(habilitation, T0, None, later - timedelta(seconds=1), NINETY_DAYS)
    assert not is_unused(habilitation, T0, T0 + timedelta(days=10), later, NINETY_DAYS)
    assert is_unused(
        habilitation, T0, T0 + timedelta(days=10), later + timedelta(days=10), NINETY_DAYS
    )


def test_only_an_active_habilitation_can_be_unused() -> None:
    far = T0 + 10 * NINETY_DAYS
    assert not is_unused(pending(), None, None, far, NINETY_DAYS)
    ended = end(active(), EndReason.DEPARTURE, T0)
    assert not is_unused(ended, T0, None, far, NINETY_DAYS)
