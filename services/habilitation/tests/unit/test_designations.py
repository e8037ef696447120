"""K10, CGU §4.1: who may ask for a successor RGC without an account, when an operator may still
validate it, and how the requester is matched with the head the adhesion declared."""

from datetime import UTC, datetime

import pytest

from kairos_habilitation.domain.designations import (
    DeclaredHead,
    DesignatedRole,
    DesignationError,
    DesignationStatus,
    check_rejection,
    check_request_without_account,
    check_validation,
    is_the_declared_head,
)
from kairos_habilitation.domain.rgc_post import designate, vacant_post

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DECLARED = DeclaredHead("Inès", "Roux", "ines.roux@of.example")
VACANT = vacant_post("of-1", T0)
HELD = designate(VACANT, "rgc-1", T0).post


@pytest.mark.parametrize(
    "claimed",
    [
        DeclaredHead("Inès", "Roux", "ines.roux@of.example"),
        DeclaredHead(" inès ", "ROUX", "Ines.Roux@OF.example"),
        DeclaredHead("Inès", "Roux  ", "ines.roux@of.example"),
        DeclaredHead("Ines", "Roux", "ines.roux@of.example"),  # typed without the accent
    ],
)
def test_the_declared_head_is_matched_whatever_case_accents_spaces(
    claimed: DeclaredHead,
) -> None:
    assert is_the_declared_head(DECLARED, claimed)


@pytest.mark.parametrize(
    "claimed",
    [
        DeclaredHead("Inès", "Rous", "ines.roux@of.example"),
        DeclaredHead("Inès", "Roux", "ines@of.example"),
        DeclaredHead("Paul", "Roux", "ines.roux@of.example"),
    ],
)
def test_anyone_else_is_not_the_declared_head(claimed: DeclaredHead) -> None:
    assert not is_the_declared_head(DECLARED, claimed)


def test_a_request_without_an_account_is_only_for_an_of_nobody_can_act_for() -> None:
    check_request_without_account(VACANT, head_can_log_in=False)
    with pytest.raises(DesignationError, match="head logs in"):
        check_request_without_account(VACANT, head_can_log_in=True)
    with pytest.raises(DesignationError, match="RGC is in office"):
        check_request_without_account(HELD, head_can_log_in=False)


def test_an_operator_validates_only_what_still_makes_sense() -> None:
    pending = DesignationStatus.PENDING
    check_validation(VACANT, DesignatedRole.RGC, pending, head_can_log_in=True)
    check_validation(VACANT, DesignatedRole.HEAD, pending, head_can_log_in=False)
    with pytest.raises(DesignationError, match="took office"):
        check_validation(HELD, DesignatedRole.RGC, pending, head_can_log_in=True)
    with pytest.raises(DesignationError, match="already exists"):
        check_validation(VACANT, DesignatedRole.HEAD, pending, head_can_log_in=True)
    for decided in (DesignationStatus.VALIDATED, DesignationStatus.REJECTED):
        with pytest.raises(DesignationError, match="not pending"):
            check_validation(VACANT, DesignatedRole.RGC, decided, head_can_log_in=False)
        with pytest.raises(DesignationError, match="not pending"):
            check_rejection(decided)
    check_rejection(pending)
