"""K14: the annual review campaign, its reminders, and the default at its deadline."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos_habilitation.domain.reviews import (
    ReviewCampaign,
    ReviewDecision,
    ReviewDefault,
    ReviewError,
    ReviewPolicy,
    apply_default,
    campaign_opening,
    deadline_passed,
    decide,
    open_campaign,
    reminders_due,
    undecided,
)

VALIDATED = datetime(2024, 5, 20, 10, 0, tzinfo=UTC)
IDS = ("hab-1", "hab-2", "hab-3")


def campaign(policy: ReviewPolicy | None = None) -> ReviewCampaign:
    return open_campaign("of-1", VALIDATED, 2025, IDS, policy)


def test_it_opens_on_the_anniversary_of_the_validation() -> None:
    assert campaign_opening(VALIDATED, 2025) == datetime(2025, 5, 20, 10, 0, tzinfo=UTC)
    assert campaign_opening(VALIDATED, 2030) == datetime(2030, 5, 20, 10, 0, tzinfo=UTC)


def test_a_29_february_validation_reviews_on_28_february_except_in_leap_years() -> None:
    leap = datetime(2024, 2, 29, 8, 0, tzinfo=UTC)
    assert campaign_opening(leap, 2025) == datetime(2025, 2, 28, 8, 0, tzinfo=UTC)
    assert campaign_opening(leap, 2028) == datetime(2028, 2, 29, 8, 0, tzinfo=UTC)


def test_it_keeps_the_local_time_across_summer_time() -> None:
    paris = ZoneInfo("Europe/Paris")
    validated = datetime(2024, 1, 15, 9, 0, tzinfo=paris)
    assert campaign_opening(validated, 2025) == datetime(2025, 1, 15, 9, 0, tzinfo=paris)


def test_there_is_no_review_before_the_year_after_validation() -> None:
    with pytest.raises(ReviewError, match="year after"):
        campaign_opening(VALIDATED, 2024)
    with pytest.raises(ValueError, match="aware"):
        campaign_opening(datetime(2024, 5, 20), 2025)  # noqa: DTZ001  # the naive input under test


def test_it_lasts_the_configured_period() -> None:
    assert campaign().deadline - campaign().opens_at == timedelta(days=30)
    longer = campaign(ReviewPolicy(period=timedelta(days=45)))
    assert longer.deadline - longer.opens_at == timedelta(days=45)


@pytest.mark.parametrize(
    "policy",
    [
        {"period": timedelta(0)},
        {"reminder_days_before": (30,)},
        {"reminder_days_before": (0,)},
        {"reminder_days_before": (3, 3)},
    ],
)
def test_impossible_policies_are_refused(policy: dict[str, object]) -> None:
    with pytest.raises(ReviewError):
        ReviewPolicy(**policy)  # type: ignore[arg-type]  # each case builds a valid-typed policy


def test_reminders_go_out_14_and_3_days_before_the_deadline() -> None:
    review = campaign()
    assert reminders_due(review, review.opens_at, ()) == ()
    fourteen = review.deadline - timedelta(days=14)
    assert reminders_due(review, fourteen - timedelta(seconds=1), ()) == ()
    assert reminders_due(review, fourteen, ()) == (14,)
    assert reminders_due(review, fourteen + timedelta(days=1), (14,)) == ()
    three = review.deadline - timedelta(days=3)
    assert reminders_due(review, three, (14,)) == (3,)
    assert reminders_due(review, three, ()) == (14, 3)
    assert reminders_due(review, review.deadline, ()) == ()


def test_the_deadline_closes_decisions() -> None:
    review = campaign()
    assert not deadline_passed(review, review.deadline - timedelta(microseconds=1))
    assert deadline_passed(review, review.deadline)
    with pytest.raises(ReviewError, match="closed"):
        decide(review, {}, "hab-1", ReviewDecision.CONFIRMED, review.deadline)
    with pytest.raises(ReviewError, match="opens"):
        decide(review, {}, "hab-1", ReviewDecision.CONFIRMED, review.opens_at - timedelta(1))
    with pytest.raises(ReviewError, match="not under"):
        decide(review, {}, "hab-9", ReviewDecision.CONFIRMED, review.opens_at)


def test_undecided_habilitations_get_the_configured_default() -> None:
    review = campaign()
    decisions = decide(review, {}, "hab-2", ReviewDecision.ENDED, review.opens_at)
    decisions = decide(review, decisions, "hab-2", ReviewDecision.CONFIRMED, review.opens_at)
    assert decisions == {"hab-2": ReviewDecision.CONFIRMED}
    assert undecided(review, decisions) == ["hab-1", "hab-3"]
    assert apply_default(review, decisions, ReviewDefault.SUSPEND) == [
        ("hab-1", ReviewDefault.SUSPEND),
        ("hab-3", ReviewDefault.SUSPEND),
    ]
    assert ReviewPolicy().default is ReviewDefault.FLAG_TO_OPERATOR
    everything = dict.fromkeys(IDS, ReviewDecision.CONFIRMED)
    assert apply_default(review, everything, ReviewDefault.FLAG_TO_OPERATOR) == []


@given(st.lists(st.integers(min_value=0, max_value=40 * 24), max_size=40))
def test_reminders_are_never_sent_twice(hours: list[int]) -> None:
    review = campaign()
    sent: list[int] = []
    for hour in sorted(hours):
        sent.extend(reminders_due(review, review.opens_at + timedelta(hours=hour), sent))
    assert len(sent) == len(set(sent))
    assert set(sent) <= {14, 3}
