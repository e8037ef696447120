"""K10: one active RGC per OF; while the post is vacant the head holds the RGC's rights."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos_habilitation.domain.rgc_post import (
    Designation,
    RgcPost,
    RgcPostError,
    Role,
    VacancyReason,
    designate,
    head_account_opened,
    may_manage_habilitations,
    vacant_post,
    vacate,
    who_holds_rgc_rights,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def held_post(rgc: str = "rgc-1", head: str | None = "head-1") -> RgcPost:
    return designate(vacant_post("of-1", T0, head), rgc, T0).post


def test_a_new_post_is_vacant_and_the_head_holds_the_rights() -> None:
    post = vacant_post("of-1", T0, "head-1")
    assert post.is_vacant
    assert post.vacant_since == T0
    assert who_holds_rgc_rights(post) == "head-1"


def test_nobody_holds_the_rights_before_the_head_account_exists() -> None:
    post = vacant_post("of-1", T0)
    assert who_holds_rgc_rights(post) is None
    assert who_holds_rgc_rights(head_account_opened(post, "head-1")) == "head-1"


def test_designating_fills_a_vacant_post_replacing_nobody() -> None:
    designation = designate(vacant_post("of-1", T0, "head-1"), "rgc-1", T0)
    assert designation.replaced is None
    assert designation.post.rgc_account_id == "rgc-1"
    assert designation.post.vacant_since is None
    assert who_holds_rgc_rights(designation.post) == "rgc-1"


def test_designating_another_rgc_replaces_the_previous_one() -> None:
    designation = designate(held_post("rgc-1"), "rgc-2", T0 + timedelta(days=1))
    assert designation.replaced == "rgc-1"
    assert designation.post.rgc_account_id == "rgc-2"


def test_designating_the_rgc_in_office_again_changes_nothing() -> None:
    post = held_post("rgc-1")
    assert designate(post, "rgc-1", T0) == Designation(post, None)


def test_a_blank_account_cannot_be_designated() -> None:
    with pytest.raises(RgcPostError, match="blank"):
        designate(held_post(), "  ", T0)


@pytest.mark.parametrize("reason", list(VacancyReason))
def test_vacating_leaves_the_head_with_the_rights(reason: VacancyReason) -> None:
    later = T0 + timedelta(days=5)
    post = vacate(held_post(), reason, later)
    assert post.is_vacant
    assert post.vacant_since == later
    assert who_holds_rgc_rights(post) == "head-1"


def test_vacating_a_vacant_post_is_refused() -> None:
    with pytest.raises(RgcPostError, match="already vacant"):
        vacate(vacant_post("of-1", T0), VacancyReason.DEPARTURE, T0)


def test_vacancy_reasons_are_those_of_the_terms() -> None:
    assert {reason.value for reason in VacancyReason} == {
        "departure",
        "absence_over_3_months",
        "change_of_function",
        "provisional_account_lapsed",
        "operator_demand",
    }


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        vacate(held_post(), VacancyReason.DEPARTURE, datetime(2025, 1, 1))  # noqa: DTZ001  # the naive input under test
    with pytest.raises(ValueError, match="aware"):
        designate(held_post(), "rgc-2", datetime(2025, 1, 1))  # noqa: DTZ001  # the naive input under test


def test_a_post_is_either_held_or_vacant() -> None:
    with pytest.raises(RgcPostError, match="either"):
        RgcPost("of-1", "rgc-1", None, T0)
    with pytest.raises(RgcPostError, match="either"):
        RgcPost("of-1", None, None, None)
    with pytest.raises(RgcPostError, match="organisation_id"):
        RgcPost(" ", "rgc-1", None, None)


def test_only_the_rgc_in_office_manages_habilitations() -> None:
    post = held_post("rgc-1", "head-1")
    assert may_manage_habilitations(post, "rgc-1", Role.RGC)
    assert not may_manage_habilitations(post, "head-1", Role.HEAD)
    assert not may_manage_habilitations(post, "rgc-2", Role.RGC)
    assert not may_manage_habilitations(post, "rgc-1", Role.USER)
    assert not may_manage_habilitations(post, "op-1", Role.OPERATOR)


def test_while_vacant_only_the_head_manages_habilitations() -> None:
    post = vacate(held_post("rgc-1", "head-1"), VacancyReason.OPERATOR_DEMAND, T0)
    assert may_manage_habilitations(post, "head-1", Role.HEAD)
    assert not may_manage_habilitations(post, "rgc-1", Role.RGC)
    assert not may_manage_habilitations(post, "head-1", Role.USER)
    # The head who was also the RGC (K1) holds one account, whose token may still say "rgc".
    assert may_manage_habilitations(post, "head-1", Role.RGC)


steps = st.lists(
    st.one_of(
        st.sampled_from(["rgc-a", "rgc-b", "head-1"]).map(lambda who: ("designate", who)),
        st.sampled_from(list(VacancyReason)).map(lambda why: ("vacate", why)),
    ),
    max_size=30,
)


@given(steps)
def test_exactly_one_account_holds_the_rgc_rights_at_any_time(
    script: list[tuple[str, str]],
) -> None:
    post = vacant_post("of-1", T0, "head-1")
    for minute, (step, argument) in enumerate(script):
        now = T0 + timedelta(minutes=minute)
        if step == "designate":
            post = designate(post, argument, now).post
        elif not post.is_vacant:
            post = vacate(post, VacancyReason(argument), now)
        holder = who_holds_rgc_rights(post)
        assert holder == (post.rgc_account_id or "head-1")
        managers = {
            account
            for account in ("rgc-a", "rgc-b", "head-1")
            for role in Role
            if may_manage_habilitations(post, account, role)
        }  # one account (the head's may act as head or, holding both roles, K1, as RGC)
        assert managers == {holder}
