"""The rule of K17, pure: an account may declare for an organisation whose access is active
(K2, K3) when it holds an active habilitation for it (K11-K14) or is its RGC in office (K10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos_declaration.domain.access import (
    Allowed,
    DeclarerFacts,
    HabilitationState,
    OrganisationAccess,
    OrganisationStatus,
    Refusal,
    Refused,
    RgcTenure,
    habilitation_state,
    may_declare,
    rgc_tenure,
)
from kairos_shared.zones import Zone

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTIVE_OF = OrganisationAccess(Zone.LA_REUNION, OrganisationStatus.ACTIVE, NOW + timedelta(days=1))
A, S, E, P = (
    HabilitationState.ACTIVE,
    HabilitationState.SUSPENDED,
    HabilitationState.ENDED,
    HabilitationState.PENDING,
)


def facts(
    *states: HabilitationState,
    rgc: RgcTenure | None = None,
    organisation: OrganisationAccess | None = ACTIVE_OF,
) -> DeclarerFacts:
    return DeclarerFacts(organisation, tuple((f"h{i}", s) for i, s in enumerate(states)), rgc)


def refusal_of(verdict: Allowed | Refused) -> Refusal | None:
    return verdict.reason if isinstance(verdict, Refused) else None


def test_an_active_habilitation_allows_declaring_in_the_organisations_zone() -> None:
    assert may_declare(facts(A), NOW) == Allowed(Zone.LA_REUNION, habilitation_id="h0")


def test_the_rgc_in_office_may_declare_without_a_habilitation() -> None:
    assert may_declare(facts(rgc=RgcTenure.IN_OFFICE), NOW) == Allowed(Zone.LA_REUNION, as_rgc=True)


@pytest.mark.parametrize(
    ("states", "rgc", "expected"),
    [
        ((), None, Refusal.NO_HABILITATION),
        ((P,), None, Refusal.NO_HABILITATION),
        ((E,), None, Refusal.HABILITATION_ENDED),
        ((S,), None, Refusal.HABILITATION_SUSPENDED),
        ((E, S), None, Refusal.HABILITATION_SUSPENDED),
        ((), RgcTenure.LEFT, Refusal.RGC_POST_LEFT),
        ((E,), RgcTenure.LEFT, Refusal.HABILITATION_ENDED),
        ((P,), RgcTenure.LEFT, Refusal.RGC_POST_LEFT),
    ],
)
def test_without_an_active_habilitation_or_the_post_the_refusal_says_why(
    states: tuple[HabilitationState, ...], rgc: RgcTenure | None, expected: Refusal
) -> None:
    assert refusal_of(may_declare(facts(*states, rgc=rgc), NOW)) is expected


def test_one_active_habilitation_is_enough_whatever_the_others() -> None:
    verdict = may_declare(facts(E, S, A, P, rgc=RgcTenure.LEFT), NOW)
    assert verdict == Allowed(Zone.LA_REUNION, habilitation_id="h2")


@pytest.mark.parametrize(
    "status",
    [OrganisationStatus.SUSPENDED, OrganisationStatus.WITHDRAWN, OrganisationStatus.EXPIRED],
)
def test_an_organisation_whose_access_stopped_refuses_everyone(status: OrganisationStatus) -> None:
    organisation = OrganisationAccess(Zone.METROPOLITAN, status)
    for tenure in (None, RgcTenure.IN_OFFICE):
        verdict = may_declare(facts(A, rgc=tenure, organisation=organisation), NOW)
        assert verdict == Refused(Refusal.ORGANISATION_NOT_ACTIVE, organisation_status=status)
        assert isinstance(verdict, Refused)
        assert verdict.detail.endswith(f"it is {status.value}")


def test_an_organisation_not_known_here_refuses_everyone() -> None:
    verdict = may_declare(facts(A, rgc=RgcTenure.IN_OFFICE, organisation=None), NOW)
    assert refusal_of(verdict) is Refusal.ORGANISATION_UNKNOWN


def test_an_access_period_that_is_over_has_expired_before_its_event_arrives() -> None:
    ends_now = OrganisationAccess(Zone.METROPOLITAN, OrganisationStatus.ACTIVE, NOW)
    assert ends_now.status_at(NOW - timedelta(seconds=1)) is OrganisationStatus.ACTIVE
    assert ends_now.status_at(NOW) is OrganisationStatus.EXPIRED
    verdict = may_declare(facts(A, organisation=ends_now), NOW)
    assert verdict == Refused(
        Refusal.ORGANISATION_NOT_ACTIVE, organisation_status=OrganisationStatus.EXPIRED
    )
    no_end_known = OrganisationAccess(Zone.METROPOLITAN, OrganisationStatus.ACTIVE)
    assert isinstance(may_declare(facts(A, organisation=no_end_known), NOW), Allowed)


def test_aware_instants_only() -> None:
    with pytest.raises(ValueError, match="aware"):
        may_declare(facts(A), datetime(2026, 3, 2, 9, 0))  # noqa: DTZ001 - the naive instant under test


@pytest.mark.parametrize(
    ("activated", "suspended", "ended", "expected"),
    [
        (False, False, False, P),
        (True, False, False, A),
        (True, True, False, S),
        (False, True, False, S),  # the suspension came before its activation: still suspended
        (True, False, True, E),
        (True, True, True, E),  # an ending is final, whatever else is known
        (False, False, True, E),  # ended before its activation arrived: ended
    ],
)
def test_a_habilitations_state_from_what_its_events_said(
    activated: bool, suspended: bool, ended: bool, expected: HabilitationState
) -> None:
    assert habilitation_state(activated=activated, suspended=suspended, ended=ended) is expected


def test_a_vacancy_is_final_for_the_account_whichever_event_came_first() -> None:
    assert rgc_tenure(took_office=False, vacated=False) is None
    assert rgc_tenure(took_office=True, vacated=False) is RgcTenure.IN_OFFICE
    assert rgc_tenure(took_office=True, vacated=True) is RgcTenure.LEFT
    assert rgc_tenure(took_office=False, vacated=True) is RgcTenure.LEFT


organisations = st.one_of(
    st.none(),
    st.builds(
        OrganisationAccess,
        st.sampled_from(Zone),
        st.sampled_from(OrganisationStatus),
        st.one_of(st.none(), st.sampled_from([NOW - timedelta(days=1), NOW + timedelta(days=1)])),
    ),
)


@given(
    organisation=organisations,
    states=st.lists(st.sampled_from(HabilitationState), max_size=4),
    rgc=st.sampled_from([None, RgcTenure.IN_OFFICE, RgcTenure.LEFT]),
)
def test_allowed_exactly_when_the_organisation_is_active_and_a_right_is_held(
    organisation: OrganisationAccess | None,
    states: list[HabilitationState],
    rgc: RgcTenure | None,
) -> None:
    verdict = may_declare(facts(*states, rgc=rgc, organisation=organisation), NOW)
    organisation_active = (
        organisation is not None and organisation.status_at(NOW) is OrganisationStatus.ACTIVE
    )
    holds_a_right = A in states or rgc is RgcTenure.IN_OFFICE
    assert isinstance(verdict, Allowed) == (organisation_active and holds_a_right)
    if isinstance(verdict, Allowed):
        assert organisation is not None
        assert verdict.zone is organisation.zone
    else:
        assert verdict.reason.concerns_the_organisation == (not organisation_active)
    # The order in which the habilitations are listed never matters.
    reordered = may_declare(facts(*reversed(states), rgc=rgc, organisation=organisation), NOW)
    assert type(reordered) is type(verdict)
    assert refusal_of(reordered) is refusal_of(verdict)
