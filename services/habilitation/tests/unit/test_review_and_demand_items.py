"""How a review item and a demand item stand (K14, K15): a habilitation ended by any means
counts as decided "ended" at the review and complies with a demand; a revocation is complied
with once that RGC is no longer in office."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kairos_habilitation.adapters.demands import DemandItem
from kairos_habilitation.adapters.reviews import CampaignState, ReviewItem, StoredCampaign
from kairos_habilitation.domain.reviews import ReviewDecision

OPENS = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)


def item(habilitation_id: str, status: str, decision: ReviewDecision | None = None) -> ReviewItem:
    return ReviewItem(
        habilitation_id=habilitation_id, first_name="Fanny", last_name="Martin", role="user",
        status=status, suspended=False, decision=decision, reason=None, decided_by=None,
        decided_at=None if decision is None else OPENS,
    )  # fmt: skip


def test_a_habilitation_ended_meanwhile_counts_as_decided_ended() -> None:
    campaign = StoredCampaign(
        id=uuid.uuid4(), organisation_id=uuid.uuid4(), year=2027, opens_at=OPENS,
        deadline=OPENS + timedelta(days=30), reminder_days=(14, 3),
    )  # fmt: skip
    state = CampaignState(
        campaign,
        [
            item("a", "active", ReviewDecision.CONFIRMED),
            item("b", "ended"),
            item("c", "active"),
            item("d", "ended", ReviewDecision.ENDED),
        ],
    )
    assert state.decisions == {
        "a": ReviewDecision.CONFIRMED,
        "b": ReviewDecision.ENDED,
        "d": ReviewDecision.ENDED,
    }
    assert state.undecided == ["c"]
    assert state.under_review.reminder_days_before == (14, 3)


@pytest.mark.parametrize(
    ("demanded", "expected"),
    [
        (DemandItem(0, uuid.uuid4(), None), None),
        (DemandItem(0, uuid.uuid4(), None, habilitation_ended=True), "ended"),
        (DemandItem(0, uuid.uuid4(), None, justification="x", justified_at=OPENS), "justified"),
        (
            DemandItem(
                0,
                uuid.uuid4(),
                None,
                justification="x",
                justified_at=OPENS,
                habilitation_ended=True,
            ),
            "ended",
        ),
        (DemandItem(0, None, uuid.uuid4(), rgc_in_office=True), None),
        (DemandItem(0, None, uuid.uuid4(), rgc_in_office=False), "ended"),
    ],
)
def test_how_the_organisation_complied_with_an_item(
    demanded: DemandItem, expected: str | None
) -> None:
    assert demanded.complied == expected
